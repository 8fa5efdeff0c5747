'use strict'
// A socket.io server that pushes jobs to its workers and waits for each worker's acknowledgement.
//
// The leak: `socket.emit(event, data, callback)` keeps the callback in the server socket's `acks`
// map until the client acknowledges. A worker that never acks (an old client version, a handler
// that forgets to call back) makes that map grow for as long as it stays connected, and each
// callback holds its closure (here: the job). The fix: `socket.timeout(ms).emit(...)`, after which
// socket.io calls back with an error and forgets the callback.
const http = require('node:http')
const { Server } = require('socket.io')

const ACK_TIMEOUT_MS = 200

function createJobServer({ fixed = false } = {}) {
  const server = http.createServer()
  const io = new Server(server)
  const workers = new Set()
  io.on('connection', (socket) => {
    workers.add(socket)
    socket.on('disconnect', () => workers.delete(socket))
  })
  let seq = 0
  const stats = { done: 0, timedOut: 0 }

  function dispatch(payload) {
    for (const socket of workers) {
      const job = { id: ++seq, payload, sentAt: Date.now() }
      if (fixed) {
        socket.timeout(ACK_TIMEOUT_MS).emit('job', job, (err) => { if (err) stats.timedOut++; else stats.done++ })
      } else {
        socket.emit('job', job, function onJobAck() { stats.done++ })
      }
    }
  }
  return { server, io, workers, dispatch, stats, ACK_TIMEOUT_MS }
}

module.exports = { createJobServer, ACK_TIMEOUT_MS }
