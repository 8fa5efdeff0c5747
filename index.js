'use strict'
// leakprobe's public API. The heavy lifting is in Rust (native/); this layer checks arguments,
// maps errors to `err.code`, and keeps the event loop free.
//
// Each entry loads its module on first use: an app that only calls analyze() does not load the
// capture, admin-route or report code (node:crypto, node:http, …), which is ~4 MB of RSS and
// ~15 ms of start-up in the process being measured.
const { LeakprobeError } = require('./lib/errors')

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
  // enumerable like a plain property; the first read loads the module and replaces the getter
  Object.defineProperty(module.exports, name, {
    enumerable: true,
    configurable: true,
    get() {
      const value = load()
      Object.defineProperty(module.exports, name, { value, enumerable: true, writable: true, configurable: true })
      return value
    },
  })
}
module.exports.format = formatText
module.exports.LeakprobeError = LeakprobeError
