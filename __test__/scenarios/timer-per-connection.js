'use strict'
// Each connection starts a heartbeat interval that is never cleared.
const http = require('node:http')
const { listen, traffic, close } = require('./http-util')

async function setup() {
  const server = http.createServer((req, res) => res.end('ok'))
  server.on('connection', (socket) => {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`
    // unref'd so this child can still exit; the leak is the same
    setInterval(function heartbeat() { return remote }, 3600 * 1000).unref()
  })
  const port = await listen(server)
  let n = 0
  return {
    // a fresh connection per request: no keep-alive
    round: () => traffic(port, Array.from({ length: 60 }, () => `/c/${n++}`), 4, false),
    close: () => close(server),
  }
}

module.exports = { setup, expect: { nameIncludes: 'Timeout', edge: '_idle' } }
