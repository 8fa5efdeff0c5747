'use strict'
// Heavy short-lived churn per request, and one small object per 5 requests kept for ever.
const http = require('node:http')
const { listen, traffic, close } = require('./http-util')

const auditTrail = []
let served = 0

async function setup() {
  const server = http.createServer((req, res) => {
    // garbage: parsed and rebuilt, dropped at the end of the request
    const scratch = Array.from({ length: 200 }, (_, i) => ({ i, s: `${req.url}:${i}` }))
    const body = JSON.stringify(scratch.slice(0, 5))
    if (++served % 5 === 0) auditTrail.push({ url: req.url, servedAt: served })
    res.end(body)
  })
  const port = await listen(server)
  let n = 0
  return {
    round: () => traffic(port, Array.from({ length: 200 }, () => `/s/${n++}`)),
    close: () => close(server),
  }
}

module.exports = { setup, expect: { nameIncludes: 'url', edge: 'auditTrail' } }
