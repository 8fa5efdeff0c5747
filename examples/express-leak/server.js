'use strict'
// An express API with a planted leak, and its fix: `node server.js` leaks, `node server.js --fixed`
// does not.
//
// Every request gets a RequestContext (id, caller, timings), kept in `inflight` while the request
// runs so that /debug/inflight can show the slow ones. The leak: the context is removed only when
// the handler answers 200, so every 404 leaves its context (and a copy of the request headers)
// behind for good. The fix: remove it when the response closes, whatever the outcome.
const express = require('express')
const leakprobe = require('leakprobe')

const FIXED = process.argv.includes('--fixed')
const PORT = Number(process.env.PORT) || 3000

class RequestContext {
  constructor(req, id) {
    this.id = id
    this.method = req.method
    this.url = req.originalUrl
    this.headers = { ...req.headers }
    this.startedAt = Date.now()
  }
}

const inflight = new Map()
let lastId = 0
const users = new Map([['1', { id: '1', name: 'Ada' }], ['2', { id: '2', name: 'Grace' }]])

const app = express()

// The admin route: token from LEAKPROBE_TOKEN, loopback clients only (the default allowlist).
// `leakprobe check --start` sets LEAKPROBE_TOKEN (and PORT) for the app it starts.
if (process.env.LEAKPROBE_TOKEN) {
  // minIntervalMs: 0 lets a load test take its three snapshots back to back; keep the default
  // (one a minute) in production.
  app.use('/_leakprobe', leakprobe.express({ minIntervalMs: 0 }))
} else {
  console.error('LEAKPROBE_TOKEN is not set: the /_leakprobe route is off')
}

app.use((req, res, next) => {
  const ctx = new RequestContext(req, ++lastId)
  inflight.set(ctx.id, ctx)
  res.locals.ctx = ctx
  if (FIXED) res.on('close', () => inflight.delete(ctx.id))
  next()
})

app.get('/users/:id', (req, res) => {
  const user = users.get(req.params.id)
  if (!user) return res.status(404).json({ error: 'no such user' }) // leaky: the context stays
  res.json(user)
  inflight.delete(res.locals.ctx.id)
})

app.get('/debug/inflight', (req, res) => {
  const now = Date.now()
  res.json([...inflight.values()].map((c) => ({ id: c.id, url: c.url, ms: now - c.startedAt })).slice(0, 100))
})

const server = app.listen(PORT, '127.0.0.1', () => {
  console.error(`example app (${FIXED ? 'fixed' : 'leaky'}) on http://127.0.0.1:${server.address().port}`)
})

// leakprobe check stops the app with SIGTERM when it is done
process.on('SIGTERM', () => server.close(() => process.exit(0)))
