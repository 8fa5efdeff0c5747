'use strict'
// The fleet metrics (README: Metrics): one table of what leakprobe exposes, read from a monitor at
// scrape time. The Prometheus text of the route (exposition.js), the prom-client adapter and the
// OpenTelemetry adapter all render this table; nothing here runs between scrapes.
//
// Label cardinality is bounded whatever the app does: at most `sites` allocation sites (default
// 10), one top suspect, and the captures' fixed outcome × reason set. Label values are code
// identifiers (a function's name, its script and line, its npm package; a class and the edge that
// holds it), never the contents of objects, and are cut to LABEL_MAX characters.
const path = require('node:path')
const v8 = require('node:v8')
const { fileURLToPath } = require('node:url')
const { CAPTURE_REASONS } = require('../monitor')

const LABEL_MAX = 120
const DEFAULT_SITES = 10
const MAX_SITES = 100

// `'a very long name'` → its first LABEL_MAX characters, the last one `…`
function clip(v) {
  const s = String(v)
  return s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s
}

// a location keeps its end: the file name and line are what tell two sites apart
function clipTail(v) {
  const s = String(v)
  return s.length > LABEL_MAX ? `…${s.slice(s.length - LABEL_MAX + 1)}` : s
}

// `file:///srv/app/lib/cache.js` or `/srv/app/lib/cache.js` → `lib/cache.js` under the working
// directory (the same in every instance of a deployment), else the path as it is
function fileOf(url, cwd) {
  let file = String(url || '')
  if (file.startsWith('file://')) {
    try { file = fileURLToPath(file) } catch { /* kept as it is */ }
  }
  if (cwd && file.startsWith(cwd + path.sep)) file = file.slice(cwd.length + 1)
  return file || 'native'
}

function siteLabels(s, cwd) {
  return {
    function: clip(s.fn || '(anonymous)'),
    location: clipTail(`${fileOf(s.url, cwd)}:${s.line}`),
    package: clip(s.package || ''),
  }
}

// The growing sites first (ranked by their rise), then the largest, at most `max`; sites whose
// labels come out the same (one function called from several places, cut labels) are one series.
function topSites(monitor, max) {
  if (!monitor.sampler || max === 0) return []
  const state = monitor.sites({ limit: max })
  const cwd = process.cwd()
  const out = new Map()
  const add = (s, growing) => {
    const labels = siteLabels(s, cwd)
    const key = `${labels.function}\0${labels.location}\0${labels.package}`
    const have = out.get(key)
    if (have) {
      if (have.seen.has(s)) return
      have.seen.add(s)
      have.liveBytes += s.liveBytes
      have.growing = have.growing || growing
      return
    }
    if (out.size >= max) return
    out.set(key, { labels, liveBytes: s.liveBytes, growing, seen: new Set([s]) })
  }
  // a site is the same object in `growing` and `largest` only by its identity fields
  const id = (s) => `${s.fn}\0${s.url}\0${s.line}\0${s.column}\0${s.caller ? `${s.caller.url}\0${s.caller.line}\0${s.caller.column}` : ''}`
  const ids = new Map()
  const canonical = (s) => {
    const k = id(s)
    if (!ids.has(k)) ids.set(k, s)
    return ids.get(k)
  }
  // a site without a script (`(V8 API)`, the compiler) is nothing a developer can go and fix
  for (const s of state.growing) if (s.url) add(canonical(s), true)
  for (const s of state.largest) if (s.url) add(canonical(s), false)
  return [...out.values()]
}

// Everything the table reads, from one look at the monitor (one scrape).
function readState(monitor, { sites = DEFAULT_SITES } = {}) {
  const t = monitor.trend
  const floors = t.floors
  const leak = monitor.leak
  const cmp = monitor.lastComparison
  return {
    floor: floors.length ? floors[floors.length - 1] : null,
    limit: v8.getHeapStatistics().heap_size_limit,
    // slope(): bytes per interval over the window's floors
    growthPerHour: floors.length >= 2 ? Math.round((t.slope() * 3_600_000) / monitor.intervalMs) : null,
    growing: Boolean(monitor.growing),
    leak: Boolean(leak),
    leakSince: leak ? leak.time / 1000 : 0,
    sites: topSites(monitor, sites),
    captures: monitor.captures,
    lastCapture: monitor.lastCapture,
    suspect: cmp && cmp.suspect ? cmp.suspect : null,
  }
}

const one = (value) => (value === null || value === undefined || !Number.isFinite(value) ? [] : [{ labels: {}, value }])
const SITE_LABELS = [
  { name: 'function', otel: 'code.function.name' },
  { name: 'location', otel: 'leakprobe.site.location' },
  { name: 'package', otel: 'leakprobe.site.package' },
]

// name: Prometheus (units in the name, `_total` for counters); otel: OpenTelemetry (semantic-
// convention style, the unit apart: the Collector's Prometheus exporters turn
// `leakprobe.heap.floor` + `By` into `leakprobe_heap_floor_bytes`, the same name).
const DEFINITIONS = [
  {
    name: 'leakprobe_heap_floor_bytes',
    otel: 'leakprobe.heap.floor',
    type: 'gauge',
    unit: 'By',
    help: "Post-GC heap floor: the lowest heap use after a major GC in the monitor's latest interval that had one.",
    labels: [],
    read: (s) => one(s.floor),
  },
  {
    name: 'leakprobe_heap_limit_bytes',
    otel: 'leakprobe.heap.limit',
    type: 'gauge',
    unit: 'By',
    help: "V8's heap size limit (heap_size_limit).",
    labels: [],
    read: (s) => one(s.limit),
  },
  {
    name: 'leakprobe_heap_floor_growth_bytes_per_hour',
    otel: 'leakprobe.heap.floor.growth',
    type: 'gauge',
    unit: 'By/h',
    help: "Growth rate of the post-GC heap floor: the least-squares slope of the floors over the monitor's window, in bytes per hour.",
    labels: [],
    read: (s) => one(s.growthPerHour),
  },
  {
    name: 'leakprobe_heap_floor_growing',
    otel: 'leakprobe.heap.floor.growing',
    type: 'gauge',
    unit: '',
    help: '1 while the post-GC heap floor is rising (an episode of growth has started and not ended), else 0.',
    labels: [],
    read: (s) => one(s.growing ? 1 : 0),
  },
  {
    name: 'leakprobe_leak',
    otel: 'leakprobe.leak',
    type: 'gauge',
    unit: '',
    help: "1 while the monitor reports a leak (the floor rose and stayed up over its whole window), else 0.",
    labels: [],
    read: (s) => one(s.leak ? 1 : 0),
  },
  {
    name: 'leakprobe_leak_start_time_seconds',
    otel: 'leakprobe.leak.start_time',
    type: 'gauge',
    unit: 's',
    help: 'Unix time the current leak was raised, 0 when there is none.',
    labels: [],
    read: (s) => one(s.leakSince),
  },
  {
    name: 'leakprobe_site_live_bytes',
    otel: 'leakprobe.site.live',
    type: 'gauge',
    unit: 'By',
    help: 'Sampled live bytes of an allocation site (monitor({ sampling })): the growing sites, then the largest, at most N of them.',
    labels: SITE_LABELS,
    read: (s) => s.sites.map((x) => ({ labels: x.labels, value: x.liveBytes })),
  },
  {
    name: 'leakprobe_site_growing',
    otel: 'leakprobe.site.growing',
    type: 'gauge',
    unit: '',
    help: "1 when the allocation site's live bytes kept rising over the monitor's window, else 0 (the same sites as leakprobe_site_live_bytes).",
    labels: SITE_LABELS,
    read: (s) => s.sites.map((x) => ({ labels: x.labels, value: x.growing ? 1 : 0 })),
  },
  {
    name: 'leakprobe_captures_total',
    otel: 'leakprobe.captures',
    type: 'counter',
    unit: '{capture}',
    help: "The monitor's heap snapshot captures by outcome (taken, skipped, failed) and reason.",
    labels: [{ name: 'outcome', otel: 'leakprobe.capture.outcome' }, { name: 'reason', otel: 'leakprobe.capture.reason' }],
    read: (s) => {
      const out = []
      for (const [outcome, reasons] of Object.entries(CAPTURE_REASONS)) {
        for (const reason of reasons) out.push({ labels: { outcome, reason }, value: s.captures[outcome][reason] })
      }
      return out
    },
  },
  {
    name: 'leakprobe_last_capture_duration_seconds',
    otel: 'leakprobe.last_capture.duration',
    type: 'gauge',
    unit: 's',
    help: "Duration of the monitor's last capture, from the call to the complete file.",
    labels: [],
    read: (s) => one(s.lastCapture ? s.lastCapture.durationMs / 1000 : null),
  },
  {
    name: 'leakprobe_last_capture_blocked_seconds',
    otel: 'leakprobe.last_capture.blocked',
    type: 'gauge',
    unit: 's',
    help: "How long the monitor's last capture held the event loop (V8 building and writing the snapshot).",
    labels: [],
    read: (s) => one(s.lastCapture ? s.lastCapture.blockedMs / 1000 : null),
  },
  {
    name: 'leakprobe_top_suspect_retained_bytes',
    otel: 'leakprobe.top_suspect.retained',
    type: 'gauge',
    unit: 'By',
    help: "Retained bytes of the top suspect of the monitor's last comparison, by its class and the holder and edge that keep it.",
    labels: [{ name: 'class', otel: 'leakprobe.suspect.class' }, { name: 'holder', otel: 'leakprobe.suspect.holder' }],
    read: (s) => {
      const x = s.suspect
      if (!x) return []
      const holder = x.holder ? (x.holder.edge ? `${x.holder.name}.${x.holder.edge}` : x.holder.name) : ''
      return [{ labels: { class: clip(x.name), holder: clip(holder) }, value: x.retainedSize }]
    },
  },
]

// [{ def, samples: [{ labels, value }] }] for every definition, from one look at the monitor
function collect(monitor, opts) {
  const state = readState(monitor, opts)
  return DEFINITIONS.map((def) => ({ def, samples: def.read(state) }))
}

module.exports = { DEFINITIONS, collect, readState, siteLabels, clip, clipTail, LABEL_MAX, DEFAULT_SITES, MAX_SITES }
