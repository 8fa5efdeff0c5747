'use strict'
// leakprobe's public API. The heavy lifting is in Rust (native/); this layer checks arguments,
// maps errors to `err.code`, and keeps the event loop free.
const { capture } = require('./lib/capture')
const { analyze } = require('./lib/analyze')
const { compare } = require('./lib/compare')
const { check } = require('./lib/check')
const { monitor, Monitor } = require('./lib/monitor')
const { LeakprobeError } = require('./lib/errors')
const { createHandler: handler } = require('./lib/admin/handler')
const { expressRoute: express } = require('./lib/admin/express')
const { renderHtml } = require('./lib/html-report')
const { formatReport, formatComparison } = require('./lib/format')

// the text the CLI prints, for a report or a comparison (test failure messages, logs)
function formatText(what) {
  if (what && what.format === 'leakprobe-compare/1') return formatComparison(what)
  if (what && what.format === 'leakprobe-report/1') return formatReport(what)
  throw new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', 'format(): pass a report (analyze()) or a comparison (compare(), check())')
}

module.exports = { capture, analyze, compare, check, monitor, Monitor, handler, express, renderHtml, format: formatText, LeakprobeError }
