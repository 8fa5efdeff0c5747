'use strict'
// A hand-rolled retry queue (a singly linked list: `head`, `tail`, `next`) that every request
// pushes onto and nothing drains: a leak through a chain, where each new node holds the next.
const http = require('node:http')
const { listen, traffic, close } = require('./http-util')

const PER_ROUND = 150

class PendingRetry {
  constructor(url, attempt) {
    this.url = url
    this.attempt = attempt
    this.next = null
  }
}

class RetryQueue {
  constructor() {
    this.head = null
    this.tail = null
    this.length = 0
  }

  push(node) {
    if (this.tail) this.tail.next = node
    else this.head = node
    this.tail = node
    this.length++
  }
}

const retries = new RetryQueue()

async function setup() {
  const server = http.createServer((req, res) => {
    // the upstream "failed": queue a retry that is never taken off the queue
    retries.push(new PendingRetry(req.url, 1))
    res.end('queued')
  })
  const port = await listen(server)
  let n = 0
  return {
    round: () => traffic(port, Array.from({ length: PER_ROUND }, () => `/job/${n++}`)),
    close: () => close(server),
  }
}

// count: exactly the nodes pushed between the baseline and the target (PER_ROUND per round)
module.exports = { setup, expect: { nameIncludes: 'PendingRetry', holder: 'RetryQueue', edge: 'head', perRound: PER_ROUND } }
