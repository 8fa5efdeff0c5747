'use strict'
// The control: the same kind of response cache, but a bounded LRU (Map order) that evicts.
// Under the same load it must not be reported as a leak.
const express = require('express')
const { traffic, close } = require('./http-util')

const MAX = 100
const lru = new Map()
let seq = 0

async function setup() {
  const app = express()
  app.get('/item/:id', (req, res) => {
    const key = req.params.id
    let hit = lru.get(key)
    if (hit) lru.delete(key)
    else hit = { body: JSON.stringify({ id: key, payload: 'p'.repeat(256) }), headers: { 'content-type': 'application/json', etag: `"${key}"` } }
    lru.set(key, hit)
    if (lru.size > MAX) lru.delete(lru.keys().next().value)
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

module.exports = { setup, expect: { leak: false } }
