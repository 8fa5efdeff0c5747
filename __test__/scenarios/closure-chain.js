'use strict'
// Undo handlers chained through their scopes: each request's closure keeps the previous one
// (`prev` in its scope), so one module variable holds every closure ever made.
const http = require('node:http')
const { listen, traffic, close } = require('./http-util')

const PER_ROUND = 120
let lastUndo = null

function remember(url) {
  const prev = lastUndo
  lastUndo = function undoRequest() {
    return prev ? `${prev()},${url}` : url
  }
}

async function setup() {
  const server = http.createServer((req, res) => {
    remember(req.url)
    res.end('ok')
  })
  const port = await listen(server)
  let n = 0
  return {
    round: () => traffic(port, Array.from({ length: PER_ROUND }, () => `/u/${n++}`)),
    close: () => close(server),
  }
}

module.exports = { setup, expect: { nameIncludes: 'undoRequest', edge: 'lastUndo', perRound: PER_ROUND } }
