'use strict'
// The child process `useClientProcess` starts: sends each job's requests, answers when done.
const { traffic } = require('./http-util')

process.on('message', (job) => {
  traffic(job.port, job.paths, job.concurrency, job.keepAlive).then(
    () => process.send({ done: true }),
    (e) => process.send({ error: String((e && e.stack) || e) }),
  )
})
// the scenario's process is gone: nothing more to send
process.on('disconnect', () => process.exit(0))
