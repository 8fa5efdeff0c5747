'use strict'
// An express route that caches every response in a module-level Map, never evicting.
const express = require('express')
const { traffic, close } = require('./http-util')

const responseCache = new Map()
let seq = 0

async function setup() {
  const app = express()
  app.get('/item/:id', (req, res) => {
    const key = req.params.id
    let hit = responseCache.get(key)
    if (!hit) {
      hit = { body: JSON.stringify({ id: key, payload: 'p'.repeat(256) }), headers: { 'content-type': 'application/json', etag: `"${key}"` } }
      responseCache.set(key, hit)
    }
    res.set(hit.headers).send(hit.body)
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  const port = server.address().port
  return {
    round: () => traffic(port, Array.from({ length: 150 }, () => `/item/${seq++}`)),
    close: () => close(server),
  }
}

module.exports = { setup, expect: { nameIncludes: 'body', edge: 'responseCache' } }
