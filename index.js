'use strict'
// leakprobe's public API. The heavy lifting is in Rust (native/); this layer checks arguments,
// maps errors to `err.code`, and keeps the event loop free.
//
// Each entry loads its module on first use: an app that only calls analyze() does not load the
// capture, admin-route or report code (node:crypto, node:http, …), which is ~4 MB of RSS and
// ~15 ms of start-up in the process being measured. The addon itself loads now, so a missing
// build still fails `require('leakprobe')` with ERR_LEAKPROBE_NATIVE.
const { LeakprobeError } = require('./lib/errors')

require('./lib/node-version').checkNodeVersion()
require('./lib/native')

const lazy = {
  capture: () => require('./lib/capture').capture,
  analyze: () => require('./lib/analyze').analyze,
  compare: () => require('./lib/compare').compare,
  check: () => require('./lib/check').check,
  monitor: () => require('./lib/monitor').monitor,
  Monitor: () => require('./lib/monitor').Monitor,
  handler: () => require('./lib/admin/handler').createHandler,
  express: () => require('./lib/admin/express').expressRoute,
  renderHtml: () => require('./lib/html-report').renderHtml,
  snapshotRoom: () => require('./lib/admin/memory').snapshotRoom,
  // prom-client and @opentelemetry/api are optional peers: loaded only when metrics() asks for them
  metrics: () => require('./lib/metrics').metrics,
}

// the text the CLI prints, for a report or a comparison (test failure messages, logs)
function formatText(what) {
  const { formatReport, formatComparison } = require('./lib/format')
  if (what && what.format === 'leakprobe-compare/1') return formatComparison(what)
  if (what && what.format === 'leakprobe-report/1') return formatReport(what)
  throw new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', 'format(): pass a report (analyze()) or a comparison (compare(), check())')
}

module.exports = {}
for (const [name, load] of Object.entries(lazy)) {
  // a plain enumerable, writable property to its users: the first read loads the module (an
  // assignment first, e.g. a test's stub, simply wins); kept as it is if the object was frozen
  let value
  let loaded = false
  Object.defineProperty(module.exports, name, {
    enumerable: true,
    configurable: true,
    get() {
      if (!loaded) {
        value = load()
        loaded = true
      }
      return value
    },
    set(v) {
      value = v
      loaded = true
    },
  })
}
module.exports.format = formatText
module.exports.LeakprobeError = LeakprobeError

// Never runs: it names the exports for Node's ESM loader, which finds a CommonJS module's named
// exports by reading its source (`import { analyze } from 'leakprobe'`).
// eslint-disable-next-line no-constant-binary-expression, no-undef -- the lexer's idiom: the names are not variables here
0 && (module.exports = { capture, analyze, compare, check, monitor, Monitor, handler, express, renderHtml, snapshotRoom, metrics, format, LeakprobeError })
