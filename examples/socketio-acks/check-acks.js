'use strict'
// leakprobe.check() around rounds of job dispatch to ten workers that never acknowledge.
//   node check-acks.js          the leaky server: exit 1, the suspect is onJobAck held by Socket.acks
//   node check-acks.js --fixed  acks with a timeout: exit 0
const { io: connect } = require('socket.io-client')
const leakprobe = require('leakprobe')
const { createJobServer, ACK_TIMEOUT_MS } = require('./app')

const fixed = process.argv.includes('--fixed')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function main() {
  const app = createJobServer({ fixed })
  await new Promise((r) => app.server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${app.server.address().port}`
  const clients = Array.from({ length: 10 }, () => {
    const c = connect(url, { transports: ['websocket'], reconnection: false })
    c.on('job', () => { /* a worker that never calls the ack */ })
    return c
  })
  while (app.workers.size < clients.length) await sleep(10)
  try {
    const result = await leakprobe.check(async () => {
      for (let i = 0; i < 20; i++) app.dispatch({ resize: 'image.png', width: 640 })
      // let the jobs reach the workers, and a fixed server's ack timeouts pass
      await sleep(ACK_TIMEOUT_MS + 50)
    }, { rounds: 5 })
    console.log(leakprobe.format(result))
    return result.leak ? 1 : 0
  } finally {
    clients.forEach((c) => c.close())
    app.io.close()
  }
}

main().then((code) => { process.exitCode = code }, (e) => {
  console.error(e)
  process.exitCode = 2
})
