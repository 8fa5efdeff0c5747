'use strict'
// Two listeners added per request to the long-lived keep-alive socket, never removed; they
// share one closure scope, which also keeps the request. The socket (and its `_events`) exists
// before the leak starts: it is the holder, the listeners are what must be removed.
const http = require('node:http')
const { listen, get, close } = require('./http-util')

const PER_ROUND = 100

async function setup() {
  const server = http.createServer((req, res) => {
    const socket = req.socket
    socket.setMaxListeners(0)
    const receivedAt = Date.now()
    socket.on('end', function onClientEnd() { return [req.url, receivedAt] })
    socket.on('close', function onSocketClose() { return req.headers })
    res.end('ok')
  })
  // one connection for the whole run: the socket outlives the rounds
  server.keepAliveTimeout = 10 * 60 * 1000
  const port = await listen(server)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  let n = 0
  return {
    async round() {
      for (let i = 0; i < PER_ROUND; i++) await get(agent, port, `/k/${n++}`)
    },
    async close() {
      agent.destroy()
      await close(server)
    },
  }
}

module.exports = { setup, expect: { nameIncludes: ['onClientEnd', 'onSocketClose'], holder: 'Socket', edge: '_events.', perRound: PER_ROUND } }
