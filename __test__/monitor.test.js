'use strict'
// The monitor: the trend rule on synthetic series, then real processes (a leaking one, a
// steady one, and one that died near its heap limit leaving a snapshot for the next run).
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { Trend } = require('../lib/trend')
const leakprobe = require('..')

const ROOT = path.join(__dirname, '..')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-monitor-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))
const MB = 1 << 20

function feed(series, opts) {
  const t = new Trend(opts)
  return series.map((f) => t.push(f))
}
const firstIndex = (events, key) => events.findIndex((e) => e[key])

test('trend: a floor that keeps rising is growth, then a leak once the window is full', () => {
  const ev = feed(Array.from({ length: 12 }, (_, i) => 50 * MB + i * MB), { window: 8, growthSteps: 3, minGrowth: 4 * MB })
  assert.equal(firstIndex(ev, 'growth'), 3)
  assert.equal(firstIndex(ev, 'leak'), 7)
  assert.equal(ev.filter((e) => e.leak).length, 1, 'reported once per episode')
})

test('trend: a spike that comes back down, and a sawtooth, are not leaks', () => {
  const spike = [50, 50, 51, 60, 80, 95, 60, 51, 50, 50, 50, 50, 50, 50].map((m) => m * MB)
  assert.equal(firstIndex(feed(spike, { window: 8, minGrowth: MB }), 'leak'), -1)
  const saw = Array.from({ length: 40 }, (_, i) => (50 + (i % 5) * 3) * MB)
  const ev = feed(saw, { window: 8, minGrowth: MB })
  assert.equal(firstIndex(ev, 'leak'), -1)
  // noise below the threshold is not growth
  const flat = Array.from({ length: 30 }, (_, i) => 50 * MB + (i % 2) * 1000)
  assert.deepEqual(feed(flat, { window: 8 }).filter((e) => e.growth || e.leak), [])
  // slow but steady growth with small dips that never fall back to the start is a leak
  const steady = Array.from({ length: 20 }, (_, i) => 50 * MB + i * 512 * 1024 - (i % 3 === 2 ? 200 * 1024 : 0))
  assert.notEqual(firstIndex(feed(steady, { window: 10, growthSteps: 2, minGrowth: 2 * MB }), 'leak'), -1)
})

test('trend: the window is time, so a slow leak with a major GC every few intervals fills it', () => {
  // window 20 intervals of 1000 ms; a floor only every 4th interval (no major GC in the others)
  const t = new Trend({ window: 20, growthSteps: 3, minGrowth: 2 * MB, intervalMs: 1000 })
  const ev = []
  for (let i = 0; i < 60; i += 4) ev.push({ i, ...t.push(50 * MB + i * 200 * 1024, i * 1000) })
  const leak = ev.find((e) => e.leak)
  assert.ok(leak, 'a leak within 60 intervals')
  assert.ok(leak.i >= 19 && leak.i <= 24, `once the floors span the window: at ${leak.i}`)
  assert.ok(t.floors.length <= 6)
  // bytes per interval, from the floors' times
  assert.equal(Math.round(t.slope()), 200 * 1024)
})

function runChild(body, args = [], extra = {}) {
  const script = `const lp = require(${JSON.stringify(ROOT)});\n${body}`
  return spawnSync(process.execPath, [...args, '-e', script], { encoding: 'utf8', timeout: 60000, ...extra })
}

test('monitor(): a leaking process gets growth, then leak with a comparison attached', () => {
  const dir = path.join(tmp, 'leak')
  const r = runChild(`
    const hoard = []
    const m = lp.monitor({ intervalMs: 40, window: 6, growthSteps: 2, minGrowth: 1 << 20, gc: true, capture: { dir: ${JSON.stringify(dir)} } })
    const seen = []
    m.on('stats', (s) => { seen.push('stats'); for (let i = 0; i < 3000; i++) hoard.push({ payload: 'x'.repeat(100) + i }) })
    m.on('growth', () => seen.push('growth'))
    m.on('leak', (e) => {
      seen.push('leak')
      m.stop()
      const top = e.comparison && e.comparison.suspects[0]
      process.stdout.write(JSON.stringify({ seen, floors: e.floors.length, top: top && [top.name, top.holder.edge], files: (e.snapshots || []).length, captures: m.captures, lastCapture: m.lastCapture, lastComparison: m.lastComparison }))
    })
    setTimeout(() => { console.error('no leak event', seen); process.exit(5) }, 30000).unref()
    const keep = setInterval(() => { if (!m.running) clearInterval(keep) }, 20)
  `, ['--expose-gc'])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.ok(out.seen.indexOf('growth') < out.seen.indexOf('leak'), out.seen.join(','))
  // the window is time: the baseline capture held the loop, so fewer floors may span it
  assert.ok(out.floors >= 3 && out.floors <= 6, String(out.floors))
  assert.equal(out.files, 2)
  assert.deepEqual(out.top, ['{payload}', 'hoard'])
  // what the metrics read: the captures by outcome and reason, the last one's timings, the suspect
  assert.deepEqual(out.captures, {
    taken: { growth: 1, leak: 1, near_heap_limit: 0 },
    skipped: { no_memory: 0, in_progress: 0, no_baseline: 0 },
    failed: { busy: 0, dir: 0, write: 0, capture: 0, other: 0 },
  })
  assert.equal(out.lastCapture.reason, 'leak')
  assert.ok(out.lastCapture.durationMs > 0 && out.lastCapture.blockedMs > 0 && out.lastCapture.blockedMs <= out.lastCapture.durationMs, JSON.stringify(out.lastCapture))
  assert.equal(out.lastComparison.leak, true)
  assert.deepEqual([out.lastComparison.suspect.name, out.lastComparison.suspect.holder.edge], ['{payload}', 'hoard'])
  assert.ok(out.lastComparison.suspect.retainedSize > 0 && out.lastComparison.suspect.count > 0)
})

test('monitor(): a steady process gets stats and no growth', () => {
  const r = runChild(`
    let scratch = []
    const m = lp.monitor({ intervalMs: 20, window: 6, growthSteps: 2, gc: true })
    const seen = { stats: 0, growth: 0, leak: 0 }
    for (const k of Object.keys(seen)) m.on(k, () => seen[k]++)
    m.on('stats', (s) => {
      scratch = Array.from({ length: 3000 }, (_, i) => ({ i }))
      if (seen.stats === 25) { m.stop(); process.stdout.write(JSON.stringify({ seen, last: s })) }
    })
    const keep = setInterval(() => { if (!m.running) clearInterval(keep) }, 20)
  `, ['--expose-gc'])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.deepEqual(out.seen, { stats: 25, growth: 0, leak: 0 })
  for (const k of ['time', 'heapUsed', 'heapTotal', 'rss', 'postGcHeapUsed', 'majorGcs']) assert.equal(typeof out.last[k], 'number', k)
})

test('monitor(): a snapshot Node wrote near the heap limit before dying is compressed and analyzed', () => {
  const work = path.join(tmp, 'oom')
  fs.mkdirSync(work)
  // a process that fills a 32 MB heap: Node writes Heap.*.heapsnapshot, then dies of the OOM
  const died = runChild(`
    const hoard = []
    setInterval(() => { for (let i = 0; i < 5000; i++) hoard.push({ stuck: 'y'.repeat(40) + i }) }, 1)
  `, ['--max-old-space-size=32', '--heapsnapshot-near-heap-limit=1'], { cwd: work })
  assert.notEqual(died.status, 0, 'the child runs out of memory')
  const left = fs.readdirSync(work).filter((f) => f.endsWith('.heapsnapshot'))
  assert.equal(left.length, 1, `Node wrote one snapshot: ${fs.readdirSync(work)}`)
  const out = path.join(tmp, 'oom-out')
  const next = runChild(`
    const m = lp.monitor({ intervalMs: 50, nearHeapLimit: { dir: ${JSON.stringify(out)} } })
    m.on('snapshot', (s) => { m.stop(); process.stdout.write(JSON.stringify({ file: s.file, bytes: s.bytes, compressed: s.compressedBytes, top: s.report.top[0] })) })
    m.on('error', (e) => { console.error(e); process.exit(4) })
    const keep = setInterval(() => { if (!m.running) clearInterval(keep) }, 20)
  `, [], { cwd: work })
  assert.equal(next.status, 0, next.stderr)
  const s = JSON.parse(next.stdout)
  assert.deepEqual(fs.readdirSync(work), [], 'the raw snapshot is gone once compressed')
  assert.equal(path.dirname(s.file), out)
  assert.equal(fs.statSync(s.file).mode & 0o777, 0o600)
  assert.ok(s.compressed < s.bytes / 4, `${s.compressed} vs ${s.bytes}`)
  assert.ok(s.top.retainedSize > 10 * MB, JSON.stringify(s.top))
})

test('monitor({ sampling }): the leak event names the function that allocates what piles up', () => {
  const r = runChild(`
    const acks = new Map()
    let id = 0
    function remember(n) { for (let i = 0; i < n; i++) acks.set(id++, { at: Date.now(), reply: () => i }) }
    let churn = 0
    function scratch() { for (let i = 0; i < 20000; i++) churn += [i, { i }].length }
    const m = lp.monitor({ intervalMs: 40, window: 8, growthSteps: 2, minGrowth: 256 << 10, sampling: { intervalBytes: 8192, readIntervalMs: 40, budget: 0.5 } })
    const reads = []
    m.on('stats', (s) => { if (s.sampling.read) reads.push(s.sampling.read.pauseMs); remember(3000); scratch() })
    m.on('leak', (e) => {
      m.stop()
      process.stdout.write(JSON.stringify({ sites: e.sites, reads, state: m.sites() }))
    })
    m.on('error', (e) => { console.error(e); process.exit(4) })
    setTimeout(() => { console.error('no leak event'); process.exit(5) }, 30000).unref()
    const keep = setInterval(() => { if (!m.running) clearInterval(keep) }, 20)
  `)
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  const top = out.sites[0]
  assert.ok(top, JSON.stringify(out.sites))
  assert.equal(top.fn, 'remember', JSON.stringify(out.sites.map((s) => [s.fn, s.line])))
  assert.equal(top.url, '[eval]')
  assert.equal(top.line, 5)
  assert.ok(top.growth.length >= 3 && top.liveBytes > top.growth[0], JSON.stringify(top.growth))
  assert.ok(!out.sites.some((s) => s.fn === 'scratch'), 'churn is not named')
  assert.ok(out.reads.length >= 3 && out.reads.every((ms) => ms >= 0))
  assert.equal(out.state.intervalBytes, 8192)
  assert.ok(out.state.pauseMs.total >= 0 && out.state.reads.length === out.reads.length)
})

test('monitor({ sampling }): without the inspector, an ERR_LEAKPROBE_SAMPLING error and the floor goes on', () => {
  // a Node built without the inspector: node:inspector throws when loaded
  const preload = path.join(tmp, 'no-inspector.js')
  fs.writeFileSync(preload, `
    const Module = require('node:module')
    const load = Module._load
    Module._load = function (req, ...rest) {
      if (req === 'node:inspector' || req === 'inspector') throw Object.assign(new Error('Inspector is not available'), { code: 'ERR_INSPECTOR_NOT_AVAILABLE' })
      return load.call(this, req, ...rest)
    }
  `)
  const r = runChild(`
    const m = lp.monitor({ intervalMs: 20, sampling: true })
    const out = { stats: 0 }
    m.on('error', (e) => { out.error = { code: e.code, message: e.message } })
    m.on('stats', () => { if (++out.stats === 5) { m.stop(); out.sites = m.sites(); process.stdout.write(JSON.stringify(out)) } })
    const keep = setInterval(() => { if (!m.running) clearInterval(keep) }, 20)
  `, ['-r', preload])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.error.code, 'ERR_LEAKPROBE_SAMPLING')
  assert.match(out.error.message, /Inspector is not available.*heap floor is still watched/)
  assert.equal(out.stats, 5)
  assert.equal(out.sites.running, false)
  assert.equal(out.sites.error.code, 'ERR_LEAKPROBE_SAMPLING')
})

test('monitor(): a listener that throws is reported, and the process and the monitor go on', () => {
  const r = runChild(`
    const m = lp.monitor({ intervalMs: 20, window: 4, growthSteps: 1, minGrowth: 1, noise: 0, gc: true })
    const hoard = []
    let stats = 0
    const errors = []
    m.on('stats', () => { stats++; for (let i = 0; i < 2000; i++) hoard.push({ i }); throw new Error('stats listener bug') })
    m.on('growth', () => { throw new Error('growth listener bug') })
    m.on('leak', () => { throw new Error('leak listener bug') })
    m.on('error', (e) => { errors.push(e.code + ' ' + e.message); if (errors.length === 30) throw new Error('error listener bug too') })
    process.on('warning', (w) => { if (w.code === 'ERR_LEAKPROBE_MONITOR') errors.push('warning ' + w.message) })
    setTimeout(() => { m.stop(); process.stdout.write(JSON.stringify({ stats, errors })) }, 1500)
  `, ['--expose-gc'])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.ok(out.stats > 20, String(out.stats))
  const has = (re) => out.errors.some((e) => re.test(e))
  assert.ok(has(/^ERR_LEAKPROBE_LISTENER monitor\(\): a 'stats' listener threw: stats listener bug/), out.errors.slice(0, 3).join('\n'))
  assert.ok(has(/'growth' listener threw/) && has(/'leak' listener threw/), out.errors.filter((e) => !/stats/.test(e)).join('\n'))
  assert.ok(has(/^warning leakprobe monitor: error listener bug too/), 'a throwing error listener ends as a warning')
})

test('monitor(): options are checked', () => {
  assert.throws(() => leakprobe.monitor({ intervalMs: 2 ** 31 }), /intervalMs.*from 10 to 2147483647/)
  assert.throws(() => leakprobe.monitor({ sampling: 'yes' }), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
  assert.throws(() => leakprobe.monitor({ sampling: { intervalBytes: 0 } }), /sampling.intervalBytes/)
  assert.throws(() => leakprobe.monitor({ sampling: { budget: 2 } }), /sampling.budget/)
  assert.throws(() => leakprobe.monitor({ intervalMs: -1 }), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
  assert.throws(() => leakprobe.monitor({ capture: 'yes' }), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
  if (typeof global.gc !== 'function') assert.throws(() => leakprobe.monitor({ gc: true }), /expose-gc/)
  const m = leakprobe.monitor({ intervalMs: 1000 })
  assert.equal(m.running, true)
  m.stop()
  assert.equal(m.running, false)
})

test('monitor({ sampling }): a read that fails stops sampling once, and the floor goes on', () => {
  const r = runChild(`
    const m = lp.monitor({ intervalMs: 20, sampling: { readIntervalMs: 10 } })
    // the inspector session goes away under the monitor (another tool, a bug)
    m.sampler.session.disconnect()
    const out = { stats: 0, errors: [] }
    m.on('error', (e) => out.errors.push({ code: e.code, message: e.message }))
    m.on('stats', () => { if (++out.stats === 8) { m.stop(); out.sites = m.sites(); process.stdout.write(JSON.stringify(out)) } })
    const keep = setInterval(() => { if (!m.running) clearInterval(keep) }, 20)
  `)
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.errors.length, 1, JSON.stringify(out.errors))
  assert.equal(out.errors[0].code, 'ERR_LEAKPROBE_SAMPLING')
  assert.match(out.errors[0].message, /sampling stopped/)
  assert.equal(out.stats, 8)
  assert.equal(out.sites.running, false)
  assert.equal(out.sites.error.code, 'ERR_LEAKPROBE_SAMPLING')
})

test('monitor({ sampling }): a profile read\'s own GC does not set the next interval\'s floor', () => {
  // the observer hears of the read's GC only after the tick, when the profile's garbage is in the
  // heap: taken then, the next interval's floor would sit above the read's exact one
  const r = runChild(`
    // ticks by hand: a read is due 1 s in (6 s apart, less the half interval of slack), not again
    const m = lp.monitor({ intervalMs: 10000, sampling: { intervalBytes: 1024, readIntervalMs: 6000, budget: 0.5 } })
    const keep = []
    for (let i = 0; i < 2e5; i++) keep.push({ i })
    setTimeout(() => {
      m._tick()
      const read = m.samples[0]
      setTimeout(() => {
        m._tick()
        const next = m.samples[1]
        m.stop()
        process.stdout.write(JSON.stringify({ read: read.sampling.read && read.postGcHeapUsed, gcs: [read.majorGcs, next.majorGcs], next: next.postGcHeapUsed, nextRead: next.sampling.read }))
      }, 20)
    }, 1100)
  `)
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.ok(out.read > 0, 'the first tick read the profile')
  assert.equal(out.nextRead, null, 'no read in the second tick')
  // the read's GC reaches the observer after the first tick: the one major GC the second sees
  assert.deepEqual(out.gcs, [out.gcs[0], out.gcs[0] + 1])
  assert.equal(out.next, null, `only the read's GC since: no floor, got ${out.next} after ${out.read}`)
})
