'use strict'
// An in-memory session store: one entry per session id in a plain object, never expired.
const http = require('node:http')
const crypto = require('node:crypto')
const { listen, traffic, close } = require('./http-util')

const PER_ROUND = 150

class Session {
  constructor(user) {
    this.user = user
    this.createdAt = Date.now()
    this.cart = []
  }
}

class SessionStore {
  constructor() {
    this.sessions = {}
  }

  create(user) {
    const id = crypto.randomUUID()
    this.sessions[id] = new Session(user)
    return id
  }
}

const store = new SessionStore()

async function setup() {
  const server = http.createServer((req, res) => {
    const id = store.create(req.url)
    res.setHeader('set-cookie', `sid=${id}`)
    res.end('welcome')
  })
  const port = await listen(server)
  let n = 0
  return {
    round: () => traffic(port, Array.from({ length: PER_ROUND }, () => `/login/${n++}`)),
    close: () => close(server),
  }
}

// the holder's edge is the store's `sessions` with its keys summarised, never one session id
module.exports = { setup, expect: { nameIncludes: 'Session', holder: 'SessionStore', edgeExact: 'sessions[*]', perRound: PER_ROUND } }
