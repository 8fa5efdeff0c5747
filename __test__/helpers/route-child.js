'use strict'
// A server with the admin route in a process of its own, for tests that kill it, count its file
// descriptors or run two "apps" side by side.
// usage: node route-child.js '{"route": {...handler options}, "objects": N, "secret": "..."}'
// Prints one line of JSON once listening: { port, pid }. Stops by itself after `lifeMs`.
const http = require('node:http')
const leakprobe = require('../..')

const args = JSON.parse(process.argv[2] || '{}')
const { route = {}, objects = 0, secret = null, lifeMs = 120_000 } = args

// a heap of `objects` small objects: the bigger, the longer a capture and its redaction take
class Filler { constructor(i) { this.i = i; this.s = `filler-${i}` } }
globalThis.__filler = Array.from({ length: objects }, (_, i) => new Filler(i))
// a secret string held by the app: redaction must remove it before anyone can see the file
class Session { constructor(t) { this.token = t } }
globalThis.__sessions = secret ? Array.from({ length: 20 }, (_, i) => new Session([secret, i].join('-'))) : []

const handle = leakprobe.handler({ token: 'tok-0123456789abcdef-secret', minIntervalMs: 0, ...route })
const server = http.createServer((req, res) => handle(req, res))
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port, pid: process.pid })}\n`)
})
setTimeout(() => process.exit(0), lifeMs).unref()
// the test ends us with a signal, or closes our stdin when it is done
process.stdin.on('end', () => process.exit(0)).resume()
