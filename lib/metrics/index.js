'use strict'
// leakprobe.metrics(monitor, { prometheus: registry } | { openTelemetry: meter }) (README: Metrics):
// the monitor's leak signals in the application's metrics system, read at scrape time.
const { invalidArg } = require('../errors')
const { wholeNumber } = require('../options')
const { Monitor } = require('../monitor')
const { DEFAULT_SITES, MAX_SITES } = require('./definitions')

function checkOptions(monitor, options) {
  if (!(monitor instanceof Monitor)) throw invalidArg('leakprobe.metrics(monitor, options): `monitor` must be a monitor from leakprobe.monitor()')
  if (options === null || typeof options !== 'object') throw invalidArg('leakprobe.metrics(monitor, options): pass { prometheus: registry } or { openTelemetry: meter }')
  const has = (k) => options[k] !== undefined && options[k] !== false
  if (has('prometheus') === has('openTelemetry')) {
    throw invalidArg('leakprobe.metrics(monitor, options): pass one of { prometheus: registry } (prom-client) or { openTelemetry: meter } (@opentelemetry/api)')
  }
  const sites = wholeNumber('leakprobe.metrics(): `sites` (the most allocation sites exposed)', options.sites, { max: MAX_SITES, dflt: DEFAULT_SITES })
  return { sites }
}

function metrics(monitor, options) {
  const opts = checkOptions(monitor, options)
  let handle
  if (options.prometheus !== undefined && options.prometheus !== false) {
    handle = require('./prometheus').prometheus(monitor, options.prometheus, opts)
  } else {
    handle = require('./opentelemetry').openTelemetry(monitor, options.openTelemetry, opts)
  }
  return { names: handle.names, stop: handle.stop, close: handle.stop }
}

module.exports = { metrics }
