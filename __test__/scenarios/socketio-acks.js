'use strict'
// socket.io 4: the server emits with an acknowledgement callback; the clients never ack, so
// every callback stays in the server Socket's `acks` map.
const http = require('node:http')
const { Server } = require('socket.io')
const { io: connect } = require('socket.io-client')
const { listen, close } = require('./http-util')

const CLIENTS = 10

async function setup() {
  const server = http.createServer()
  const io = new Server(server)
  const sockets = []
  io.on('connection', (s) => sockets.push(s))
  const port = await listen(server)
  const clients = []
  for (let i = 0; i < CLIENTS; i++) {
    const c = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false })
    c.on('tick', () => { /* a slow client: never calls the ack */ })
    clients.push(c)
  }
  while (sockets.length < CLIENTS) await new Promise((r) => setTimeout(r, 10))
  let seq = 0
  return {
    async round() {
      for (let m = 0; m < 20; m++) {
        for (const s of sockets) {
          const sentAt = Date.now()
          s.emit('tick', { seq: seq++ }, function onTickAck(reply) { return [reply, sentAt] })
        }
      }
      // let the messages reach the clients (and not be acknowledged)
      await new Promise((r) => setTimeout(r, 20))
    },
    async close() {
      clients.forEach((c) => c.close())
      io.close()
      await close(server).catch(() => {})
    },
  }
}

module.exports = { setup, expect: { nameIncludes: 'onTickAck', holder: 'Socket', edge: 'acks' } }
