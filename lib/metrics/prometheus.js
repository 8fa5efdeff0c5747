'use strict'
// The table as prom-client metrics in the application's registry: each is a prom-client Gauge
// or Counter (the registry's own copy of prom-client) whose values are read from the monitor
// when the registry is scraped. One look at the monitor serves every metric of a scrape.
const { LeakprobeError, invalidArg } = require('../errors')
const { DEFINITIONS, collect } = require('./definitions')
const { loadPeer } = require('./peer')

const isRegistry = (r) => r !== null && typeof r === 'object' &&
  ['registerMetric', 'removeSingleMetric', 'getSingleMetric', 'metrics'].every((k) => typeof r[k] === 'function')

// `registry`: a prom-client Registry, or true for prom-client's default `register`
function prometheus(monitor, registry, opts) {
  const prom = loadPeer('prom-client', 'leakprobe.metrics(monitor, { prometheus })', (m) => registry === true || (m.Registry && registry instanceof m.Registry))
  if (registry === true) registry = prom.register
  if (!isRegistry(registry)) {
    throw invalidArg('leakprobe.metrics(): `prometheus` must be a prom-client Registry (new Registry(), or prom-client\'s `register`), or true for the default registry')
  }
  for (const def of DEFINITIONS) {
    if (registry.getSingleMetric(def.name)) {
      throw invalidArg(`leakprobe.metrics(): the registry already has a metric named ${def.name} (a second metrics() on it? stop() the first)`)
    }
  }

  // every metric of one scrape is read in the same tick (the registry calls each get() before
  // awaiting any): one look at the monitor serves them all, dropped at the next microtask
  let cached = null
  const families = () => {
    if (!cached) {
      cached = new Map(collect(monitor, opts).map((f) => [f.def.name, f.samples]))
      queueMicrotask(() => { cached = null })
    }
    return cached
  }

  const made = []
  try {
    for (const def of DEFINITIONS) {
      const Base = def.type === 'counter' ? prom.Counter : prom.Gauge
      // the class's registration, name, help and type; the values come from the monitor
      class LeakprobeMetric extends Base {
        async get() {
          const out = await super.get()
          out.values = families().get(def.name).map((s) => ({ labels: { ...s.labels }, value: s.value }))
          return out
        }
      }
      made.push([def.name, new LeakprobeMetric({ name: def.name, help: def.help, labelNames: def.labels.map((l) => l.name), registers: [registry] })])
    }
  } catch (e) {
    remove(registry, made)
    throw new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', `leakprobe.metrics(): prom-client refused a metric: ${e.message}`, { cause: e })
  }
  return {
    names: DEFINITIONS.map((d) => d.name),
    stop: () => remove(registry, made),
  }
}

// only our own: a metric registered since under the same name is someone else's. By the name
// it was registered under: an OpenMetrics registry renames a counter (drops `_total`) on scrape.
function remove(registry, made) {
  for (const [name, m] of made) if (registry.getSingleMetric(name) === m) registry.removeSingleMetric(name)
  made.length = 0
}

module.exports = { prometheus }
