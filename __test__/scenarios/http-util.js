'use strict'
// Bounded loopback traffic for the scenarios: N GET requests, a few at a time, keep-alive.
const http = require('node:http')
const path = require('node:path')

// the process that sends `traffic`'s requests when one is in use (useClientProcess)
let client = null

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
  if (client) return viaClient({ port, paths, concurrency, keepAlive })
  const agent = new http.Agent({ keepAlive, maxSockets: concurrency })
  let next = 0
  const worker = async () => {
    while (next < paths.length) await get(agent, port, paths[next++])
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  agent.destroy()
}

// From now on `traffic` is sent from a child process, so that a sampling profile of this one
// holds the server's allocations only: the client's own sockets and agent state, in the same
// process, could be named as growing sites. The child ends with this process.
function useClientProcess() {
  if (client) return
  client = require('node:child_process').fork(path.join(__dirname, 'load-client.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  client.unref()
  client.channel.unref()
}

function viaClient(job) {
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`the load client exited (${code}) before it was done`))
    client.once('exit', onExit)
    client.once('message', (m) => {
      client.off('exit', onExit)
      if (m.error) reject(new Error(`load client: ${m.error}`))
      else resolve()
    })
    client.send(job)
  })
}

function close(server) {
  server.closeAllConnections?.()
  return new Promise((resolve) => server.close(() => resolve()))
}

module.exports = { listen, get, traffic, close, useClientProcess }
