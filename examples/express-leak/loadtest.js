'use strict'
// The load: 2,000 requests over 10 connections, half of them for a user that does not exist.
// PORT comes from the environment (`leakprobe check` sets it), 3000 otherwise.
const autocannon = require('autocannon')

const port = Number(process.env.PORT) || 3000
const amount = Number(process.env.REQUESTS) || 2000

autocannon({
  url: `http://127.0.0.1:${port}`,
  connections: 10,
  amount,
  requests: [{ method: 'GET', path: '/users/1' }, { method: 'GET', path: '/users/404' }],
}, (err, result) => {
  if (err) {
    console.error(`load test failed: ${err.message}`)
    process.exit(1)
  }
  const { requests, errors, timeouts, non2xx } = result
  console.error(`load test: ${requests.total} requests (${non2xx} not 2xx), ${requests.average} req/s, ${errors} errors, ${timeouts} timeouts`)
  process.exit(errors || timeouts ? 1 : 0)
})
