'use strict'
// Runs in a child process: plants a marker in this heap, captures, prints the outcome as JSON.
// usage: node capture-child.js '{"dir": "...", ...options, "scenario": "..."}'
const leakprobe = require('../..')
const args = JSON.parse(process.argv[2] || '{}')
const { scenario = 'plain', ...opts } = args

class LeakprobeMarkerClass {
  // join() makes a flat string (a '+' would leave a cons string, stored in parts)
  constructor() { this.tag = ['leakprobe-marker', process.pid].join('-') }
}
globalThis.__marker = new LeakprobeMarkerClass()
process.on('SIGXFSZ', () => {}) // the write-failure test caps the file size with ulimit -f

const summarize = (e) => ({ code: e.code, message: e.message, name: e.name })

async function main() {
  if (scenario === 'busy') {
    const first = leakprobe.capture({ ...opts, method: 'stream' })
    const second = await leakprobe.capture(opts).then(() => null, summarize)
    const firstResult = await first
    const third = await leakprobe.capture(opts) // the slot is free again
    return { second, first: firstResult, third }
  }
  if (scenario === 'fail-then-continue') {
    const err = await leakprobe.capture(opts).then(() => null, summarize)
    const stillAlive = { heapUsed: process.memoryUsage().heapUsed > 0, marker: globalThis.__marker.tag }
    return { err, stillAlive }
  }
  return { result: await leakprobe.capture(opts), marker: globalThis.__marker.tag }
}

main().then(
  (out) => { process.stdout.write(JSON.stringify(out)) },
  (e) => { process.stdout.write(JSON.stringify({ error: summarize(e) })) }
)
