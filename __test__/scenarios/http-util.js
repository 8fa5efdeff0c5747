'use strict'
// Bounded loopback traffic for the scenarios: N GET requests, a few at a time, keep-alive.
const http = require('node:http')

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
}

function get(agent, port, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      res.resume()
      res.on('end', resolve)
    })
    req.on('error', reject)
  })
}

// keepAlive false: a new connection per request
async function traffic(port, paths, concurrency = 8, keepAlive = true) {
  const agent = new http.Agent({ keepAlive, maxSockets: concurrency })
  let next = 0
  const worker = async () => {
    while (next < paths.length) await get(agent, port, paths[next++])
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  agent.destroy()
}

function close(server) {
  server.closeAllConnections?.()
  return new Promise((resolve) => server.close(() => resolve()))
}

module.exports = { listen, get, traffic, close }
