'use strict'
// Each request subscribes to a long-lived emitter and never unsubscribes.
const http = require('node:http')
const { EventEmitter } = require('node:events')
const { listen, traffic, close } = require('./http-util')

const configBus = new EventEmitter()
configBus.setMaxListeners(0)

async function setup() {
  const server = http.createServer((req, res) => {
    const started = Date.now()
    configBus.on('config', function onConfigChange(cfg) {
      res.locals = { cfg, started }
    })
    res.end('ok')
  })
  const port = await listen(server)
  let n = 0
  return {
    round: () => traffic(port, Array.from({ length: 150 }, () => `/r/${n++}`)),
    close: () => close(server),
  }
}

module.exports = { setup, expect: { nameIncludes: 'onConfigChange', edge: '_events' } }
