'use strict'
// The table as OpenTelemetry observable instruments on the application's meter: one batch
// callback reads the monitor once per collection (the SDK's reader or exporter decides when).
// No SDK here: the meter is the application's (`metrics.getMeter(...)` of @opentelemetry/api).
const { invalidArg } = require('../errors')
const { DEFINITIONS, collect } = require('./definitions')
const { loadPeer } = require('./peer')

const METHODS = ['createObservableGauge', 'createObservableCounter', 'addBatchObservableCallback', 'removeBatchObservableCallback']
const isMeter = (m) => m !== null && typeof m === 'object' && METHODS.every((k) => typeof m[k] === 'function')

// `meter`: an @opentelemetry/api Meter, or true for the global MeterProvider's meter 'leakprobe'
function openTelemetry(monitor, meter, opts) {
  if (meter === true) {
    const api = loadPeer('@opentelemetry/api', 'leakprobe.metrics(monitor, { openTelemetry: true })')
    meter = api.metrics.getMeter('leakprobe', require('../../package.json').version)
  }
  if (!isMeter(meter)) {
    throw invalidArg(`leakprobe.metrics(): \`openTelemetry\` must be an @opentelemetry/api Meter (${METHODS.join(', ')}), e.g. metrics.getMeter('my-service'), or true for the global meter provider's`)
  }
  const instruments = new Map()
  for (const def of DEFINITIONS) {
    const create = def.type === 'counter' ? 'createObservableCounter' : 'createObservableGauge'
    instruments.set(def.name, meter[create](def.otel, { description: def.help, unit: def.unit }))
  }
  const callback = (observer) => {
    for (const { def, samples } of collect(monitor, opts)) {
      const inst = instruments.get(def.name)
      for (const s of samples) observer.observe(inst, s.value, attributes(def, s.labels))
    }
  }
  const list = [...instruments.values()]
  meter.addBatchObservableCallback(callback, list)
  let stopped = false
  return {
    names: DEFINITIONS.map((d) => d.otel),
    stop() {
      if (stopped) return
      stopped = true
      meter.removeBatchObservableCallback(callback, list)
    },
  }
}

// Prometheus label names → the OTel attribute keys of the table
function attributes(def, labels) {
  const out = {}
  for (const l of def.labels) if (labels[l.name] !== undefined) out[l.otel] = labels[l.name]
  return out
}

module.exports = { openTelemetry }
