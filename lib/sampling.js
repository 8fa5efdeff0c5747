'use strict'
// The monitor's `sampling`: V8's sampling heap profiler through an in-process inspector session,
// read on a bounded schedule and folded into allocation sites (lib/sites.js).
//
// Sampling itself costs little: V8 records the stack of one allocation per ~intervalBytes and
// forgets it when the object dies. A *read* is what costs: V8 runs a full GC before it builds
// the profile (the inspector asks for it), a stop-the-world pause that grows with the heap
// (BENCHMARKS.md, Sampling: ~150 ms at 100 MB, 1.4–1.8 s at 1 GB), and the recompiling of hot
// code that follows a full GC costs the app several times that pause. So reads are spaced: at least
// `readIntervalMs` apart, and far enough apart that their pauses stay under `budget` of the
// wall time, judged by the last read's pause or, before the first, by the last major GC's.
const v8 = require('node:v8')
const { performance } = require('node:perf_hooks')
const { LeakprobeError, invalidArg } = require('./errors')
const { fold, SiteHistory } = require('./sites')
const { number } = require('./options')

const DEFAULTS = {
  // BENCHMARKS.md, Sampling: ~0.5% of the CPU per request (14.7 µs per sample), ~4% at 64 KiB
  intervalBytes: 512 * 1024,
  readIntervalMs: 60_000,
  budget: 0.01,
  maxSites: 300,
}

function samplingOptions(o) {
  if (o === true) o = {}
  if (o === null || typeof o !== 'object') throw invalidArg('monitor(): `sampling` must be true or { intervalBytes, readIntervalMs, budget }')
  const num = (name, min, max) => number(`monitor(): \`sampling.${name}\``, o[name], { min, max, dflt: DEFAULTS[name] })
  return {
    intervalBytes: Math.round(num('intervalBytes', 128, 64 << 20)),
    readIntervalMs: num('readIntervalMs', 10, 2 ** 31 - 1),
    budget: num('budget', 0.0001, 0.5),
    maxSites: Math.round(num('maxSites', 10, 10_000)),
  }
}

class Sampler {
  constructor(opts) {
    this.opts = opts
    this.history = new SiteHistory({ intervalBytes: opts.intervalBytes, maxSites: opts.maxSites })
    this.session = null
    this.error = null
    this.lastReadAt = 0
    this.totalPauseMs = 0
  }

  // Throws ERR_LEAKPROBE_SAMPLING when the inspector cannot be had (a Node built without it,
  // the permission model, another profiler holding V8's sampler).
  start() {
    try {
      const inspector = require('node:inspector')
      const session = new inspector.Session()
      session.connect()
      this.session = session
      this._post('HeapProfiler.enable')
      this._post('HeapProfiler.startSampling', { samplingInterval: this.opts.intervalBytes })
    } catch (e) {
      this.stop()
      this.error = e
      throw new LeakprobeError('ERR_LEAKPROBE_SAMPLING', `monitor(): V8's sampling heap profiler is not available here (${e.message}); the heap floor is still watched`, { cause: e })
    }
    this.lastReadAt = Date.now()
  }

  // Disconnecting disables the profiler, which stops sampling at once; stopSampling would first
  // build and return a whole profile (a full GC: 1.4–1.7 s at 1 GB).
  stop() {
    if (!this.session) return
    this.session.disconnect()
    this.session = null
  }

  get running() {
    return this.session !== null
  }

  // An in-process session answers before post() returns.
  _post(method, params) {
    let out
    let failed = null
    this.session.post(method, params, (err, res) => {
      failed = err
      out = res
    })
    if (failed) throw failed
    if (out === undefined) throw new Error(`${method} did not answer synchronously`)
    return out
  }

  // Due when readIntervalMs has passed since the last read began (or the start) and the reads'
  // pauses stay within budget: the last read's pause, or before the first the last major GC's.
  // `slack`: reads happen on the monitor's ticks, so one a little early beats one a tick late.
  due(now, lastMajorGcMs = 0, slack = 0) {
    return this.running && now + slack >= this.nextReadAt(lastMajorGcMs)
  }

  nextReadAt(lastMajorGcMs = 0) {
    const reads = this.history.reads
    const pause = reads.length ? reads[reads.length - 1].pauseMs : lastMajorGcMs
    return this.lastReadAt + Math.max(this.opts.readIntervalMs, pause / this.opts.budget)
  }

  // Reads the profile (a full GC, then the profile) and folds it; returns the read's record.
  read() {
    this.lastReadAt = Date.now()
    const t = performance.now()
    const { profile } = this._post('HeapProfiler.getSamplingProfile')
    const pauseMs = performance.now() - t
    // the read's GC just ran: this is the heap's floor right now
    const heapUsed = v8.getHeapStatistics().used_heap_size
    const folded = fold(profile)
    const time = Date.now()
    let sampledBytes = 0
    for (const s of folded.values()) sampledBytes += s.liveBytes
    const rec = { time, pauseMs: Math.round(pauseMs * 10) / 10, heapUsed, sampledBytes, samples: (profile.samples || []).length }
    this.history.add(rec, folded)
    this.totalPauseMs += pauseMs
    return rec
  }

  // What the route's GET /sites and the HTML report show.
  state({ since = 0, limit = 10 } = {}) {
    const h = this.history
    const from = h.span(since)
    return {
      running: this.running,
      intervalBytes: this.opts.intervalBytes,
      reads: h.reads.slice(),
      pauseMs: { last: h.reads.length ? h.reads[h.reads.length - 1].pauseMs : null, total: Math.round(this.totalPauseMs) },
      nextReadAt: this.running ? this.nextReadAt() : null,
      growing: h.growing({ from, limit }),
      largest: h.largest(limit),
    }
  }
}

module.exports = { Sampler, samplingOptions, DEFAULTS }
