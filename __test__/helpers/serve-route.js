'use strict'
// The admin route in this test process on 127.0.0.1: `serve(opts)` starts one (its own store
// dir: `tmp`/<its index in `servers`>) and resolves with its base URL; all close when the tests end.
const { after } = require('node:test')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const leakprobe = require('../..')
const { TOKEN } = require('./spawn-route')

function inProcessRoutes(prefix) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const servers = []
  after(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) })))
    fs.rmSync(tmp, { recursive: true, force: true })
  })
  async function serve(opts) {
    const server = http.createServer(leakprobe.handler({ token: TOKEN, dir: path.join(tmp, String(servers.length)), minIntervalMs: 0, ...opts }))
    servers.push(server)
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    return `http://127.0.0.1:${server.address().port}`
  }
  return { tmp, serve, servers }
}

module.exports = { inProcessRoutes }
