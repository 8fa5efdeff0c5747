'use strict'
// Allocation sites from V8's sampling heap profile, their live bytes over time, and which of
// them are leaking (pure: no inspector here, so the rules are tested on plain profiles).
//
// A profile is a call tree whose nodes carry `selfSize`: the estimated bytes still alive that
// were allocated with that stack on top. A *site* is the function that allocated them: the
// first frame that is not Node's own code or V8's (a listener array grown inside
// `node:events` belongs to the code that called `.on()`), with the first frame of the app's own
// code above it when that function is in an npm package (`emitWithAck` in socket.io, called
// from `notify` in the app: one site per caller, so the caller can be fixed). V8 walks machine
// frames only: a function inlined by the optimizing compiler is counted as its caller, and a
// frame's position is where its function starts, not the allocating line.

const path = require('node:path')

const STACK_FRAMES = 8
// leakprobe's own code: what the monitor itself holds is not the app's, and is bounded
const OWN_DIR = path.join(__dirname, path.sep)
// the deepest we look up from an allocation for its site and caller
const MAX_DEPTH = 256

// `/srv/app/node_modules/@scope/pkg/lib/x.js` → `@scope/pkg` (the innermost node_modules)
function packageOf(url) {
  const i = url.lastIndexOf('node_modules/')
  if (i < 0) return null
  const parts = url.slice(i + 'node_modules/'.length).split('/')
  if (!parts[0]) return null
  return parts[0].startsWith('@') && parts[1] ? `${parts[0]}/${parts[1]}` : parts[0]
}

// V8's and Node's own frames: `(root)`, `(V8 API)`, builtins, `node:internal/…`
function isInternal(cf) {
  const u = cf.url
  return u === '' || u.startsWith('node:') || u.startsWith('internal/')
}

const isOwn = (cf) => cf.url.startsWith(OWN_DIR)

// 1-based line and column, as a stack trace and DevTools show them
function frameOf(cf) {
  return { fn: cf.functionName || '(anonymous)', url: cf.url, line: cf.lineNumber + 1, column: cf.columnNumber + 1 }
}

function frameText(f) {
  return `${f.fn} (${f.url || 'native'}:${f.line}:${f.column})`
}

// profile → Map(key → { fn, url, line, column, package, caller, stack, liveBytes }). The
// inspector gives each node's bytes already scaled by V8 (a sample stands for ~interval bytes):
// object sizes and counts cannot be told apart, so only bytes are kept.
function fold(profile) {
  const sites = new Map()
  // iterative walk: a deep recursion in the app gives a deep tree
  const parent = []
  const frames = []
  const todo = [[profile.head, -1]]
  while (todo.length) {
    const [node, up] = todo.pop()
    const idx = frames.length
    frames.push(node.callFrame)
    parent.push(up)
    if (node.selfSize > 0) addSample(sites, frames, parent, idx, node.selfSize)
    for (const c of node.children || []) todo.push([c, idx])
  }
  return sites
}

function addSample(sites, frames, parent, leaf, bytes) {
  const chain = []
  for (let i = leaf; i >= 0 && chain.length < MAX_DEPTH; i = parent[i]) chain.push(frames[i])
  let at = chain.findIndex((cf) => !isInternal(cf))
  if (at >= 0 && isOwn(chain[at])) return
  // all Node's own: the nearest frame with a script (`parserOnIncoming`), not `(V8 API)`
  if (at < 0) at = Math.max(0, chain.findIndex((cf) => cf.url !== ''))
  const cf = chain[at]
  const pkg = isInternal(cf) ? null : packageOf(cf.url)
  let caller = null
  if (pkg || isInternal(cf)) {
    const u = chain.findIndex((c, i) => i > at && !isInternal(c) && !packageOf(c.url))
    if (u > 0) caller = frameOf(chain[u])
  }
  const key = `${cf.functionName}\0${cf.url}\0${cf.lineNumber}\0${cf.columnNumber}` +
    (caller ? `\0${caller.url}\0${caller.line}\0${caller.column}` : '')
  let s = sites.get(key)
  if (!s) {
    const f = frameOf(cf)
    const stack = chain.slice(0, STACK_FRAMES).filter((c) => c.url !== '' || c.functionName !== '(root)').map((c) => frameText(frameOf(c)))
    s = { ...f, package: pkg, caller, stack, liveBytes: 0 }
    sites.set(key, s)
  }
  s.liveBytes += bytes
}

// Each site's live bytes over the last `maxReads` reads, for at most `maxSites` sites (the
// largest; a leaking site only gets larger, so it stays): memory is bounded whatever the app.
class SiteHistory {
  constructor({ intervalBytes, maxSites = 300, maxReads = 48 } = {}) {
    this.intervalBytes = intervalBytes
    this.maxSites = maxSites
    this.maxReads = maxReads
    this.reads = [] // { time, pauseMs, heapUsed, sampledBytes }
    this.sites = new Map() // key → site with `series` aligned with `reads` (0: none alive)
  }

  add(read, folded) {
    this.reads.push(read)
    const n = this.reads.length
    for (const [key, s] of folded) {
      const have = this.sites.get(key)
      if (have) {
        have.series.push(s.liveBytes)
        have.liveBytes = s.liveBytes
      } else {
        const { liveBytes } = s
        this.sites.set(key, { ...s, series: new Array(n - 1).fill(0).concat(liveBytes), liveBytes })
      }
    }
    for (const s of this.sites.values()) {
      if (s.series.length < n) {
        s.series.push(0)
        s.liveBytes = 0
      }
    }
    if (n > this.maxReads) {
      this.reads.shift()
      for (const s of this.sites.values()) s.series.shift()
    }
    if (this.sites.size > this.maxSites) {
      const keep = [...this.sites].sort((a, b) => peak(b[1]) - peak(a[1])).slice(0, this.maxSites)
      this.sites = new Map(keep)
    }
    for (const [key, s] of this.sites) if (peak(s) === 0) this.sites.delete(key)
  }

  // The reads a verdict looks at: those since `since` (ms), at least `minReads` of them.
  span(since, minReads = 3) {
    let from = this.reads.findIndex((r) => r.time >= since)
    if (from < 0) from = this.reads.length
    return Math.max(0, Math.min(from, this.reads.length - minReads))
  }

  // The sites whose live bytes kept rising over reads[from..], ranked by how much they rose, each
  // with its share of the floor's rise over those reads.
  growing({ from = 0, limit = 10, minShare = 0.02 } = {}) {
    const reads = this.reads.slice(from)
    if (reads.length < 2) return []
    const floorRise = reads[reads.length - 1].heapUsed - reads[0].heapUsed
    const rising = []
    for (const s of this.sites.values()) {
      // no script at all (`(V8 API)`: native code made it): nothing a developer can go and fix;
      // it stays in `largest`
      if (s.url === '') continue
      const v = s.series.slice(from)
      if (keptRising(v, this.intervalBytes)) rising.push({ s, v, rise: v[v.length - 1] - v[0] })
    }
    rising.sort((a, b) => b.rise - a.rise)
    // beside the first, a site too small to matter to the floor is not named, however steady
    return rising.filter((r, i) => i === 0 || r.rise >= minShare * floorRise).slice(0, limit).map((r) => view(r.s, r.v, floorRise))
  }

  largest(limit = 10) {
    return [...this.sites.values()].sort((a, b) => b.liveBytes - a.liveBytes).slice(0, limit).map((s) => view(s, s.series, null))
  }
}

const peak = (s) => Math.max(...s.series)

// Rose by more than the sampling's noise, never fell back below half of its best rise, and rose
// in both halves of the span (a cache that fills and then evicts is flat in the second; a burst
// that is freed falls back; one large object kept is a single step). Noise: a site of B live bytes holds ~B / interval samples, a
// Poisson count, so its estimate wanders by ~sqrt(B * interval); a rise must clear 3 of those.
function keptRising(v, interval) {
  if (v.length < 2) return false
  const last = v[v.length - 1]
  const noise = (a, b) => Math.sqrt((a + b + interval) * interval)
  if (last - v[0] <= 3 * noise(v[0], last)) return false
  let best = 0
  for (let i = 1; i < v.length; i++) {
    const d = v[i] - v[0]
    if (d > best) best = d
    else if (d < best / 2 && best - d > noise(v[0] + best, v[i])) return false
  }
  if (v.length < 3) return true
  // both halves rose: one large object kept (a step) is not a leak in progress
  const mid = v[Math.floor((v.length - 1) / 2)]
  return mid - v[0] > noise(v[0], mid) && last - mid > noise(mid, last)
}

function view(s, v, floorRise) {
  const out = {
    fn: s.fn, url: s.url, line: s.line, column: s.column, package: s.package, caller: s.caller, stack: s.stack,
    liveBytes: s.liveBytes, growth: v.slice(),
  }
  if (floorRise !== null) out.share = floorRise > 0 ? Math.round(((v[v.length - 1] - v[0]) / floorRise) * 100) / 100 : null
  return out
}

module.exports = { fold, SiteHistory, packageOf, keptRising, frameText }
