'use strict'
// monitor(): post-GC heap samples, a trend, and `growth` / `leak` events (README: "Find the leak").
// Cheap enough to leave on: one PerformanceObserver for GC entries and one unref'd timer.
const { EventEmitter } = require('node:events')
const fs = require('node:fs')
const path = require('node:path')
const v8 = require('node:v8')
const { PerformanceObserver, constants, performance } = require('node:perf_hooks')
const native = require('./native')
const { Trend } = require('./trend')
const { capture, newId, DEFAULT_DIR } = require('./capture')
const { ensurePrivateDir } = require('./private-dir')
const { compare } = require('./compare')
const { analyze } = require('./analyze')
const { LeakprobeError, fromNative, invalidArg } = require('./errors')
const { Sampler, samplingOptions } = require('./sampling')
const { number } = require('./options')
const memory = require('./admin/memory')

const NEAR_LIMIT_FILE = /^Heap\.\d{8}\.\d{6}\.(\d+)\.\d+\.\d+\.heapsnapshot$/

// The monitor's captures by outcome and reason, a fixed set (metrics label them; lib/metrics/):
// taken — `growth` (the baseline), `leak` (the target), `near_heap_limit` (Node's own, gzipped);
// skipped — `no_memory` (snapshotRoom() said no), `in_progress` (the monitor's last capture had
// not finished), `no_baseline` (a leak without a baseline to compare with);
// failed — by the error's code: `busy` (another capture in this process), `dir`, `write`,
// `capture`, else `other`.
const CAPTURE_REASONS = {
  taken: ['growth', 'leak', 'near_heap_limit'],
  skipped: ['no_memory', 'in_progress', 'no_baseline'],
  failed: ['busy', 'dir', 'write', 'capture', 'other'],
}
const FAILED_BY_CODE = {
  ERR_LEAKPROBE_BUSY: 'busy',
  ERR_LEAKPROBE_DIR: 'dir',
  ERR_LEAKPROBE_WRITE: 'write',
  ERR_LEAKPROBE_CAPTURE: 'capture',
}

function captureCounts() {
  const out = {}
  for (const [outcome, reasons] of Object.entries(CAPTURE_REASONS)) {
    out[outcome] = {}
    for (const r of reasons) out[outcome][r] = 0
  }
  return out
}

const num = (name, v, dflt, min, max) => number(`monitor(): \`${name}\``, v, { dflt, min, max })

// Where Node writes snapshots by itself: --diagnostic-dir, else the working directory.
function diagnosticDir() {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)]
  for (let i = 0; i < args.length; i++) {
    const m = /^--diagnostic-dir(?:=(.*))?$/.exec(args[i])
    if (m) return path.resolve(m[1] !== undefined ? m[1] : args[i + 1] || '.')
  }
  return process.cwd()
}

class Monitor extends EventEmitter {
  constructor(options = {}) {
    super()
    if (options === null || typeof options !== 'object') throw invalidArg('monitor(): options must be an object')
    // setInterval's limit: a longer delay is silently taken as 1 ms
    this.intervalMs = num('intervalMs', options.intervalMs, 10000, 10, 2 ** 31 - 1)
    const window = num('window', options.window, 30, 3)
    this.trend = new Trend({
      window,
      growthSteps: Math.min(num('growthSteps', options.growthSteps, 3, 1), window - 1),
      minGrowth: num('minGrowth', options.minGrowth, 1 << 20, 0),
      noise: num('noise', options.noise, 64 * 1024, 0),
      intervalMs: this.intervalMs,
    })
    this.history = num('history', options.history, 720, 1)
    this.forceGc = options.gc === true
    if (this.forceGc && typeof global.gc !== 'function') throw invalidArg('monitor(): `gc: true` needs node --expose-gc')
    this.captureDir = null
    if (options.capture !== undefined && options.capture !== false) {
      const c = options.capture === true ? {} : options.capture
      if (c === null || typeof c !== 'object') throw invalidArg('monitor(): `capture` must be true or { dir }')
      this.captureDir = path.resolve(c.dir || DEFAULT_DIR)
    }
    this.nearHeapLimit = null
    if (options.nearHeapLimit !== undefined && options.nearHeapLimit !== false) {
      const n = options.nearHeapLimit === true ? {} : options.nearHeapLimit
      if (n === null || typeof n !== 'object') throw invalidArg('monitor(): `nearHeapLimit` must be true or { dir, limit }')
      this.nearHeapLimit = {
        dir: path.resolve(n.dir || this.captureDir || DEFAULT_DIR),
        watch: diagnosticDir(),
        sizes: new Map(), // file → size at the last poll: a file is complete once it stops growing
        busy: false,
      }
      v8.setHeapSnapshotNearHeapLimit(num('nearHeapLimit.limit', n.limit, 1, 1))
    }
    this.samples = []
    this._postGc = null
    this._majorGcs = 0
    this._lastMajorGcMs = 0
    // GC entries that started before this (performance.now()) are a profile read's own, whose
    // exact floor the read took; the observer hears of them only later, with the profile's
    // garbage still in the heap
    this._readGcBefore = 0
    this.sampler = null
    if (options.sampling !== undefined && options.sampling !== false) {
      this.sampler = new Sampler(samplingOptions(options.sampling))
      try {
        this.sampler.start()
      } catch (e) {
        // the floor is still watched; the error reaches 'error' listeners added after this returns
        setImmediate(() => this._fail(e))
      }
    }
    this._baseline = null
    this._baselinePending = null
    this._busy = false
    this._leak = null
    // what the metrics read (O(1), set where the events are): captures by outcome and reason,
    // the last capture's timings, the last comparison's top suspect
    this.captures = captureCounts()
    this.lastCapture = null
    this.lastComparison = null
    this._observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = e.detail ? e.detail.kind : e.kind
        if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue
        this._majorGcs++
        this._lastMajorGcMs = e.duration
        if (e.startTime < this._readGcBefore) continue
        const used = v8.getHeapStatistics().used_heap_size
        if (this._postGc === null || used < this._postGc) this._postGc = used
      }
    })
    this._observer.observe({ entryTypes: ['gc'] })
    this._timer = setInterval(() => {
      try {
        this._tick()
      } catch (e) {
        this._fail(e)
      }
    }, this.intervalMs)
    this._timer.unref()
    // snapshots left by an earlier run that died near the heap limit: pick them up now
    if (this.nearHeapLimit) setImmediate(() => this._pollNearLimit())
  }

  stop() {
    if (!this._timer) return
    clearInterval(this._timer)
    this._timer = null
    this._observer.disconnect()
    if (this.sampler) this.sampler.stop()
    this._tell('stop')
  }

  get running() {
    return this._timer !== null
  }

  // The leak of the current episode, { time, sites } (sites: null without sampling), set when
  // the leak is found (before a capture for the event) and cleared when the trend ends the
  // episode (the floor no higher than where the window starts: back down, or flat for a window);
  // and whether the floor is rising now.
  get leak() {
    return this._leak
  }

  get growing() {
    return this.trend.growing
  }

  _tick() {
    const read = this._readSites()
    if (this.forceGc) {
      global.gc()
      const used = v8.getHeapStatistics().used_heap_size
      if (this._postGc === null || used < this._postGc) this._postGc = used
    }
    const mem = process.memoryUsage()
    const floor = this._postGc
    this._postGc = null
    const verdict = floor === null ? { growth: false, leak: false } : this.trend.push(floor, Date.now())
    if (this._leak && !this.trend.leaking) this._leak = null
    const stats = {
      time: Date.now(),
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      rss: mem.rss,
      external: mem.external,
      postGcHeapUsed: floor,
      majorGcs: this._majorGcs,
      slope: Math.round(this.trend.slope()),
      growing: this.trend.growing,
    }
    if (this.sampler) stats.sampling = { reads: this.sampler.history.reads.length, read }
    this.samples.push(stats)
    if (this.samples.length > this.history) this.samples.shift()
    this._tell('stats', stats)
    if (verdict.growth) this._onGrowth(stats)
    if (verdict.leak) this._onLeak(stats)
    if (this.nearHeapLimit) this._pollNearLimit()
  }

  // 'error' only when someone listens: a monitor must never take the host down
  _fail(err) {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', err)
        return
      } catch (e) {
        err = e instanceof Error ? e : new Error(String(e))
      }
    }
    process.emitWarning(`leakprobe monitor: ${err.message}`, { code: err.code || 'ERR_LEAKPROBE_MONITOR' })
  }

  // An event for the app's listeners: one that throws is reported, never thrown into our timer
  // (an uncaught exception) or our promise (an unhandled rejection).
  _tell(event, payload) {
    try {
      this.emit(event, payload)
    } catch (e) {
      this._fail(new LeakprobeError('ERR_LEAKPROBE_LISTENER', `monitor(): a '${event}' listener threw: ${e && e.message}`, { cause: e }))
    }
  }

  // A due read of the sampling profile (its GC gives this interval an exact floor), or null.
  _readSites() {
    const s = this.sampler
    if (!s || !s.due(Date.now(), this._lastMajorGcMs, this.intervalMs / 2)) return null
    let rec
    try {
      rec = s.read()
    } catch (e) {
      // once, not every tick: sampling stops and the floor goes on
      s.stop()
      s.error = e
      this._fail(new LeakprobeError('ERR_LEAKPROBE_SAMPLING', `monitor(): reading the sampling heap profile failed, sampling stopped (the heap floor is still watched): ${e.message}`, { cause: e }))
      return null
    }
    this._readGcBefore = performance.now()
    if (this._postGc === null || rec.heapUsed < this._postGc) this._postGc = rec.heapUsed
    return rec
  }

  // The allocation sites: the growing ones over the monitor's window, and the largest.
  sites({ limit = 10 } = {}) {
    if (!this.sampler) return null
    const state = this.sampler.state({ since: Date.now() - this.trend.window * this.intervalMs, limit })
    if (this.sampler.error) state.error = { code: 'ERR_LEAKPROBE_SAMPLING', message: this.sampler.error.message }
    return state
  }

  _event(stats) {
    const event = { stats, floors: this.trend.floors.slice(), slope: Math.round(this.trend.slope()) }
    if (this.sampler) event.sites = this.sites().growing
    return event
  }

  // null when a snapshot of this heap fits in memory now, else why not ('needs ~N GB, M GB free')
  _noRoom() {
    const room = memory.snapshotRoom({ heapUsed: process.memoryUsage().heapUsed })
    return room.ok ? null : room.text
  }

  _onGrowth(stats) {
    const event = this._event(stats)
    const wantBaseline = this.captureDir && !this._baseline && !this._baselinePending
    const skipped = wantBaseline ? this._noRoom() : null
    if (skipped) {
      event.skipped = skipped
      this.captures.skipped.no_memory++
    }
    this._tell('growth', event)
    if (wantBaseline && !skipped) {
      this._baselinePending = this._capture('growth')
        .then((c) => { this._baseline = c })
        .catch((e) => this._fail(e))
        .finally(() => { this._baselinePending = null })
    }
  }

  async _onLeak(stats) {
    const event = this._event(stats)
    // at once: a capture below may take a while before the event fires
    this._leak = { time: stats.time, sites: event.sites || null }
    if (this.captureDir && this._busy) this.captures.skipped.in_progress++
    if (this.captureDir && !this._busy) {
      this._busy = true
      try {
        // the baseline taken at `growth` may still be on its way
        if (this._baselinePending) await this._baselinePending
        const skipped = this._noRoom()
        if (skipped) {
          event.skipped = skipped
          this.captures.skipped.no_memory++
        } else if (this._baseline) {
          const target = await this._capture('leak')
          event.snapshots = [this._baseline, target]
          event.comparison = await compare(this._baseline, target)
          this._noteComparison(event.comparison)
          this._baseline = null
        } else {
          this.captures.skipped.no_baseline++
        }
      } catch (e) {
        this._fail(e)
      } finally {
        this._busy = false
      }
    }
    this._tell('leak', event)
  }

  // a capture of the monitor's, counted by outcome, its timings kept
  async _capture(reason) {
    let c
    try {
      c = await capture({ dir: this.captureDir })
    } catch (e) {
      this._captureFailed(e)
      throw e
    }
    this.captures.taken[reason]++
    this.lastCapture = { time: Date.now(), reason, durationMs: c.durationMs, blockedMs: c.blockedMs }
    return c
  }

  _captureFailed(e) {
    this.captures.failed[FAILED_BY_CODE[e && e.code] || 'other']++
  }

  // the comparison's top suspect: its class, holder and size (nothing from the heap's strings)
  _noteComparison(c) {
    const s = c && c.suspects && c.suspects[0]
    this.lastComparison = {
      time: Date.now(),
      leak: Boolean(c && c.leak),
      suspect: s ? { name: s.name, holder: s.holder ? { name: s.holder.name, edge: s.holder.edge } : null, retainedSize: s.retainedSize, count: s.count } : null,
    }
  }

  async _pollNearLimit() {
    const n = this.nearHeapLimit
    if (n.busy) return
    let names
    try {
      names = fs.readdirSync(n.watch)
    } catch (e) {
      return this._fail(e)
    }
    for (const name of names) {
      const m = NEAR_LIMIT_FILE.exec(name)
      if (!m) continue
      // ours, or left by a process that has died since (usually of the very OOM it warned of)
      const pid = Number(m[1])
      const ours = pid === process.pid
      if (!ours && isAlive(pid)) continue
      const file = path.join(n.watch, name)
      let size
      try { size = fs.statSync(file).size } catch { continue }
      if (ours && n.sizes.get(file) !== size) {
        n.sizes.set(file, size) // still being written, or new: look again next tick
        continue
      }
      n.sizes.delete(file)
      n.busy = true
      try {
        let out
        try {
          if (n.dir === DEFAULT_DIR) ensurePrivateDir(n.dir, { what: "leakprobe's default capture directory" })
          out = JSON.parse(await native.compressFile(file, n.dir, `${newId()}.heapsnapshot.gz`, 3, true).catch((e) => { throw fromNative(e) }))
        } catch (e) {
          this._captureFailed(e)
          throw e
        }
        this.captures.taken.near_heap_limit++
        const report = await analyze(out.file)
        this._tell('snapshot', { source: 'near-heap-limit', original: file, pid, ...out, report })
      } catch (e) {
        this._fail(e)
      } finally {
        n.busy = false
      }
    }
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return e.code === 'EPERM'
  }
}

function monitor(options) {
  return new Monitor(options)
}

module.exports = { monitor, Monitor, diagnosticDir, CAPTURE_REASONS }
