'use strict'
// What monitor({ sampling }) costs a server, and what it finds. One run, eight parts:
//   node benches/sampling.js [--quick]
//        [--only schedule,throughput,together,toggle,persample,memory,pause,verdict]
//        [--rounds 3] [--duration 10] [--slice 2] [--connections 10] [--heaps 100,1000] [--reads 50]
// - throughput: an express 5 app in child processes under autocannon on 127.0.0.1, with the
//   floor monitor alone and with sampling at 512 KiB and 64 KiB: req/s, p50/p99/max latency,
//   server CPU per request. Steady state (no read within a run): each round starts one server
//   per variant and loads them in turn in 2 s slices (A B C, B C A, …). With reads (a read due
//   every 2 s): each round runs the servers one after the other, 10 s each, in a rotated order.
// - together: two servers per variant (base, 512 KiB) loaded at the same time, so the
//   machine's load hits all alike: CPU per request of each.
// - toggle: one server under continuous load, V8's sampler on and off in 1 s windows (the cost
//   of sampling itself), then sampling throughout and a read at the start of every other 3 s
//   window (what a read costs): each on-window paired with the off-windows beside it.
// - persample: the same cost from its parts: µs per sample (an allocation microbenchmark) times
//   samples per request (the app's bytes allocated per request, from --trace-gc, / interval).
// - memory: a child allocating from 2000 distinct functions (sites), 50 profile reads, then
//   heap and RSS beside the same work under the floor monitor alone with a global.gc() in place
//   of each read, and before/after stop().
// - pause: one profile read (lib/sampling.js's Sampler.read(): a full GC, then the profile)
//   beside a plain global.gc(), at ~100 MB and ~1 GB of small objects, at 512 KiB and 64 KiB.
// - verdict: a socket.io server whose clients never ack emitWithAck(); seconds and heap until
//   the monitor's `leak` event names the site.
// - schedule: monitor({ sampling: true }) with every default in a child for the whole run:
//   when it reads (a read per 60 s, or per pause / budget).
// Raw results: bench-out/sampling.json; tables on stdout, progress on stderr.
const { fork } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { performance } = require('node:perf_hooks')

const ROOT = path.join(__dirname, '..')
const OUT = path.join(ROOT, 'bench-out')
const KiB = 1024
const MB = 1024 * 1024

// ---------------------------------------------------------------------------------------------
// throughput: the server (child) and its variants

const VARIANTS = {
  // the floor monitor alone (what `monitor()` costs is not the question here)
  base: { monitor: {} },
  // monitor({ sampling: true }): 512 KiB, a read per 60 s (none within a run)
  s512: { monitor: { sampling: true } },
  s64: { monitor: { sampling: { intervalBytes: 64 * KiB } } },
  // reads within the run: a tick per second, a read due every 2 s (and the 1% budget)
  's512-reads': { monitor: { intervalMs: 1000, sampling: { readIntervalMs: 2000 } } },
  's64-reads': { monitor: { intervalMs: 1000, sampling: { intervalBytes: 64 * KiB, readIntervalMs: 2000 } } },
}

// A small catalogue API: JSON in and out, a page of items mapped per request, some live state
// (items, sessions, a response cache), and a slow leak (an audit record per 100 requests).
function serverChild(name) {
  const variant = VARIANTS[name]
  const leakprobe = require(ROOT)
  const express = require('express')
  const m = variant.monitor ? leakprobe.monitor(variant.monitor) : null
  const reads = []
  if (m) {
    m.on('stats', (s) => { if (s.sampling && s.sampling.read) reads.push(s.sampling.read) })
    m.on('error', (e) => console.error(`monitor: ${e.message}`))
  }
  const items = []
  for (let i = 0; i < 20000; i++) {
    items.push({
      id: i, sku: `SKU-${i.toString(36).padStart(6, '0')}`, name: `Item ${i}`, price: ((i * 7919) % 10000) / 100,
      stock: (i * 31) % 97, tags: [`t${i % 13}`, `t${i % 29}`], updatedAt: new Date(1.7e12 + i * 1000).toISOString(),
    })
  }
  const sessions = new Map()
  for (let i = 0; i < 5000; i++) sessions.set(`sess-${i}`, { user: i, cart: [i % 20000, (i * 7) % 20000], seen: Date.now() })
  const cache = new Map() // bounded: the last 2000 item pages
  const audit = [] // the slow leak
  let served = 0
  const app = express()
  app.use(express.json())
  app.use((req, res, next) => { served++; next() })
  app.get('/api/items', (req, res) => {
    const limit = Math.min(Number(req.query.limit) || 20, 100)
    const start = (Number(req.query.page || 0) * limit + served * 17) % (items.length - limit)
    const out = items.slice(start, start + limit).filter((it) => it.stock > 3).map((it) => ({
      id: it.id, sku: it.sku, name: it.name, price: it.price, total: Math.round(it.price * it.stock * 100) / 100, tags: it.tags.join(','), updatedAt: it.updatedAt,
    }))
    const body = { start, count: out.length, items: out }
    cache.set(start, body)
    if (cache.size > 2000) cache.delete(cache.keys().next().value)
    if (served % 100 === 0) audit.push({ at: Date.now(), path: req.originalUrl, ua: req.get('user-agent') || '' })
    res.json(body)
  })
  app.get('/api/items/:id', (req, res) => {
    const id = Number(req.params.id + served) % items.length
    const it = items[id]
    const related = []
    for (let k = 1; k <= 5; k++) related.push({ id: items[(id + k * 131) % items.length].id, name: items[(id + k * 131) % items.length].name })
    const s = sessions.get(`sess-${served % 5000}`)
    s.seen = Date.now()
    res.json({ ...it, related, session: { user: s.user, cart: s.cart.length } })
  })
  app.post('/api/orders', (req, res) => {
    const lines = Array.isArray(req.body.lines) ? req.body.lines : []
    if (!lines.length) return res.status(400).json({ error: 'no lines' })
    const priced = lines.map((l) => {
      const it = items[(Number(l.id) + served) % items.length]
      return { sku: it.sku, qty: l.qty, unit: it.price, amount: Math.round(it.price * l.qty * 100) / 100 }
    })
    const total = priced.reduce((a, l) => a + l.amount, 0)
    res.status(201).json({ order: `ord-${served}`, customer: req.body.customer, lines: priced, total: Math.round(total * 100) / 100 })
  })
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  // the parent loads one server at a time, in slices: CPU is counted over the loaded slices
  let cpuAt = null
  let cpuMs = 0
  let servedAt = 0
  let servedLoaded = 0
  // windows under the parent's continuous load, `windowMs` each, odd ones "on": in mode
  // 'toggle' V8's sampler runs in the on-windows only; in mode 'read' it runs throughout and an
  // on-window starts with a read of the profile (lib/sampling.js's Sampler.read())
  let win = null
  process.on('message', (msg) => {
    if (msg && msg.windows) {
      const { Sampler, samplingOptions } = require(path.join(ROOT, 'lib', 'sampling.js'))
      const { mode, intervalBytes, windowMs } = msg.windows
      const newSampler = () => { const x = new Sampler(samplingOptions({ intervalBytes })); x.start(); return x }
      win = { windows: [], sampler: mode === 'read' ? newSampler() : null }
      const open = () => {
        const on = win.windows.length % 2 === 1
        const w = { on, from: Date.now(), cpu: process.cpuUsage(), served }
        win.windows.push(w)
        if (mode === 'toggle' && on) win.sampler = newSampler()
        if (mode === 'toggle' && !on && win.sampler) {
          win.sampler.session.disconnect() // off without a profile: stopSampling would run a full GC and build one
          win.sampler = null
        }
        if (mode === 'read' && on) w.pauseMs = win.sampler.read().pauseMs
      }
      win.close = () => {
        const w = win.windows[win.windows.length - 1]
        if (!w || w.to) return
        const c = process.cpuUsage(w.cpu)
        Object.assign(w, { to: Date.now(), cpuMs: (c.user + c.system) / 1000, served: served - w.served })
      }
      open()
      win.timer = setInterval(() => { win.close(); open() }, windowMs)
      return
    }
    if (msg === 'windows-stop') {
      clearInterval(win.timer)
      win.close()
      if (win.sampler) win.sampler.session.disconnect()
      process.send({ windows: win.windows.map(({ on, from, to, cpuMs, served, pauseMs }) => ({ on, from, to, cpuMs, served, pauseMs })) })
      return
    }
    if (msg === 'load') {
      cpuAt = process.cpuUsage()
      servedAt = served
      process.send({ loading: true })
    } else if (msg === 'idle') {
      const c = process.cpuUsage(cpuAt)
      cpuMs += (c.user + c.system) / 1000
      servedLoaded += served - servedAt
      process.send({ idle: true, cpuMs: (c.user + c.system) / 1000, served: served - servedAt })
    } else if (msg === 'report') {
      const v8 = require('node:v8')
      process.send({
        cpuMs, served: servedLoaded, reads: reads.map((r) => ({ pauseMs: r.pauseMs, samples: r.samples, heapUsed: r.heapUsed, time: r.time })),
        heapUsed: v8.getHeapStatistics().used_heap_size, rss: process.memoryUsage().rss, auditLen: audit.length,
      })
    } else if (msg === 'exit') {
      if (m) m.stop()
      server.close()
      process.exit(0)
    }
  })
}

const REQUESTS = [
  { method: 'GET', path: '/api/items?page=3&limit=40' },
  { method: 'GET', path: '/api/items/4242' },
  {
    method: 'POST', path: '/api/orders', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: { id: 77, name: 'Ada', email: 'ada@example.com' }, lines: [{ id: 1, qty: 2 }, { id: 50, qty: 1 }, { id: 999, qty: 5 }, { id: 4000, qty: 1 }] }),
  },
]

function once(child, pred) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => { if (pred(m)) { child.off('message', onMsg); child.off('exit', onExit); resolve(m) } }
    const onExit = (code) => reject(new Error(`child exited (${code}) early`))
    child.on('message', onMsg)
    child.on('exit', onExit)
  })
}

// One round: a fresh server process per variant, all started and warmed up, then loaded one at
// a time in slices of `slice` s, the variants in a rotated order each cycle (A B C, B C A, …),
// until each had `duration` s of load. The machine's load drifts over seconds (others'
// builds and tests on the same 2 cores), so the variants are compared slice by slice, not run
// by run. Latencies are every response's own (autocannon's 'response' event, in ms).
async function throughputRound(round, names, opt) {
  const autocannon = require('autocannon')
  const servers = {}
  try {
    for (const name of names) {
      const child = fork(__filename, ['--child', 'server', name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      servers[name] = { child, port: (await once(child, (m) => m.port)).port, slices: [], lat: [] }
    }
    const load = async (name, seconds, record) => {
      const s = servers[name]
      const opts = { url: `http://127.0.0.1:${s.port}`, connections: opt.connections, pipelining: 1, requests: REQUESTS, duration: seconds }
      if (!record) return autocannon(opts)
      s.child.send('load')
      await once(s.child, (m) => m.loading)
      const from = Date.now()
      const inst = autocannon(opts)
      inst.on('response', (client, status, bytes, ms) => { if (status < 300) s.lat.push(ms) })
      const r = await inst
      const to = Date.now()
      s.child.send('idle')
      const idle = await once(s.child, (m) => m.idle)
      s.slices.push({ from, to, ok: r['2xx'], errors: r.errors + r.non2xx + r.timeouts, rps: r['2xx'] / ((to - from) / 1000), cpuUsPerReq: (idle.cpuMs * 1000) / idle.served, load1: os.loadavg()[0] })
    }
    for (const name of names) await load(name, opt.warmup, false) // JIT warm-up, not measured
    const cycles = Math.max(1, Math.round(opt.duration / opt.slice))
    for (let c = 0; c < cycles; c++) {
      const k = c + round
      for (const name of names.map((_, i) => names[(i + k) % names.length])) await load(name, opt.slice, true)
    }
    const out = []
    for (const name of names) {
      const s = servers[name]
      s.child.send('report')
      const rep = await once(s.child, (m) => m.cpuMs !== undefined)
      const seconds = s.slices.reduce((a, x) => a + (x.to - x.from) / 1000, 0)
      const ok = s.slices.reduce((a, x) => a + x.ok, 0)
      const lat = Float64Array.from(s.lat).sort()
      const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]
      // reads that fell inside this server's loaded slices (a read's time is its end)
      const loadedReads = rep.reads.filter((r) => s.slices.some((x) => r.time >= x.from && r.time - r.pauseMs <= x.to))
      out.push({
        variant: name, round, reqPerSec: ok / seconds, slices: s.slices, errors: s.slices.reduce((a, x) => a + x.errors, 0),
        p50: q(0.5), p99: q(0.99), p999: q(0.999), max: lat[lat.length - 1], cpuUsPerReq: (rep.cpuMs * 1000) / rep.served,
        reads: loadedReads, allReads: rep.reads, heapUsed: rep.heapUsed, rss: rep.rss,
      })
    }
    return out
  } finally {
    for (const { child } of Object.values(servers)) if (child.exitCode === null) { child.send('exit'); setTimeout(() => child.kill(), 2000).unref() }
  }
}

// Two phases per round. steady: the cost of sampling itself (no read falls within a run at the
// default schedule: each server lives < 60 s), base / 512 KiB / 64 KiB in 2 s slices. reads: a
// read due every 2 s (and the 1% budget), so each server runs alone, started, warmed up and
// loaded for one contiguous run of `duration` s, one after the other in a rotated order: loaded
// in turn, a server idles most of the time and most reads would fall while it idles.
const PHASES = {
  steady: { names: ['base', 's512', 's64'], alone: false },
  reads: { names: ['base', 's512-reads', 's64-reads'], alone: true },
}

async function throughput(opt) {
  const runs = []
  for (let round = 0; round < opt.rounds; round++) {
    for (const [phase, { names, alone }] of Object.entries(PHASES)) {
      let out = []
      if (!alone) out = await throughputRound(round, names, opt)
      else for (const name of names.map((_, i) => names[(i + round) % names.length])) out.push(...await throughputRound(round, [name], { ...opt, slice: opt.duration }))
      for (const r of out) {
        r.phase = phase
        runs.push(r)
        log(`throughput round ${round + 1} ${phase} ${r.variant}: ${r.reqPerSec.toFixed(0)} req/s (slices ${r.slices.map((x) => x.rps.toFixed(0)).join(' ')}; CPU/req ${r.slices.map((x) => x.cpuUsPerReq.toFixed(0)).join(' ')}), p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(0)} ms, ${r.cpuUsPerReq.toFixed(1)} µs CPU/req, ${r.reads.length} reads under load ${JSON.stringify(r.reads.map((x) => x.pauseMs))} (${r.allReads.length} in all), errors ${r.errors}, load ${r.slices.map((x) => x.load1.toFixed(1)).join(' ')}`)
      }
    }
  }
  const rows = []
  for (const [phase, { names }] of Object.entries(PHASES)) {
    const base = runs.filter((r) => r.phase === phase && r.variant === 'base')
    const baseOf = (r) => base.find((b) => b.round === r.round)
    for (const name of names) {
      const rs = runs.filter((r) => r.phase === phase && r.variant === name)
      const rps = rs.map((r) => r.reqPerSec)
      // paired with the base server of the same round and phase: loaded right beside it
      const paired = rs.map((r) => 1 - r.reqPerSec / baseOf(r).reqPerSec)
      const reads = rs.flatMap((r) => r.reads)
      const gaps = rs.flatMap((r) => r.allReads.slice(1).map((x, i) => x.time - r.allReads[i].time))
      const loadedMs = rs.reduce((a, r) => a + r.slices.reduce((b, x) => b + x.to - x.from, 0), 0)
      rows.push({
        phase, variant: name, runs: rs.length, reqPerSec: mean(rps), sd: sd(rps), min: Math.min(...rps), max: Math.max(...rps),
        lossMean: 1 - mean(rps) / mean(base.map((r) => r.reqPerSec)), lossPaired: mean(paired), lossPairedMin: Math.min(...paired), lossPairedMax: Math.max(...paired),
        p50: mean(rs.map((r) => r.p50)), p99: mean(rs.map((r) => r.p99)), p99s: rs.map((r) => r.p99), p999: mean(rs.map((r) => r.p999)), maxLat: Math.max(...rs.map((r) => r.max)),
        cpuUsPerReq: mean(rs.map((r) => r.cpuUsPerReq)), cpuPaired: mean(rs.map((r) => r.cpuUsPerReq / baseOf(r).cpuUsPerReq - 1)),
        reads: reads.length, readsPerRun: reads.length / rs.length, pauseMs: reads.map((x) => x.pauseMs), pauseShare: reads.reduce((a, x) => a + x.pauseMs, 0) / loadedMs,
        readGapMs: gaps, samples: reads.map((x) => x.samples), heapUsed: mean(rs.map((r) => r.heapUsed)), errors: rs.reduce((a, r) => a + r.errors, 0),
      })
    }
  }
  return { runs, rows }
}

// Paired as closely as this machine allows: one server under continuous load, in windows that
// alternate off / on, each on-window against the mean of the off-windows beside it (a drift in
// the machine's load over a few seconds cancels). toggle: V8's sampler (lib/sampling.js's
// Sampler, as the monitor starts it) on for 1 s, off for 1 s: sampling's own cost, no reads.
// read: sampling throughout, a read at the start of every other 3 s window: what a read costs
// the window it starts, its pause and whatever follows it.
async function windowsRun(mode, intervalBytes, windowMs, seconds, opt) {
  const autocannon = require('autocannon')
  const child = fork(__filename, ['--child', 'server', 'base'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  try {
    const { port } = await once(child, (m) => m.port)
    const opts = { url: `http://127.0.0.1:${port}`, connections: opt.connections, pipelining: 1, requests: REQUESTS }
    await autocannon({ ...opts, duration: opt.warmup })
    const lat = []
    const inst = autocannon({ ...opts, duration: seconds + 1 })
    inst.on('response', (client, status, bytes, ms) => { if (status < 300) lat.push([Date.now(), ms]) })
    await new Promise((r) => setTimeout(r, 500))
    child.send({ windows: { mode, intervalBytes, windowMs } })
    await new Promise((r) => setTimeout(r, seconds * 1000))
    child.send('windows-stop')
    const { windows } = await once(child, (m) => m.windows)
    await inst
    child.send('exit')
    const ws = windows.filter((w) => w.to && w.served > 0)
    for (const w of ws) {
      w.cpuUsPerReq = (w.cpuMs * 1000) / w.served
      w.rps = w.served / ((w.to - w.from) / 1000)
    }
    const pairs = []
    for (let i = 1; i < ws.length - 1; i++) {
      if (!ws[i].on || ws[i - 1].on || ws[i + 1].on) continue
      const offCpu = (ws[i - 1].cpuUsPerReq + ws[i + 1].cpuUsPerReq) / 2
      pairs.push({
        rps: ws[i].rps / ((ws[i - 1].rps + ws[i + 1].rps) / 2) - 1, cpu: ws[i].cpuUsPerReq / offCpu - 1,
        extraCpuMs: (ws[i].served * (ws[i].cpuUsPerReq - offCpu)) / 1000, pauseMs: ws[i].pauseMs,
      })
    }
    const q = (xs, p) => { const s = Float64Array.from(xs).sort(); return s[Math.min(s.length - 1, Math.floor(p * s.length))] }
    const latOf = (on) => lat.filter(([t]) => ws.some((w) => w.on === on && t >= w.from && t < w.to)).map(([, ms]) => ms)
    const onLat = latOf(true)
    const offLat = latOf(false)
    const ci = (xs) => 2.2 * sd(xs) / Math.sqrt(xs.length) // ~95% (t, 5–15 pairs)
    return {
      mode, intervalBytes, windowMs, windows: ws, pairs: pairs.length,
      rpsChange: mean(pairs.map((p) => p.rps)), rpsCi: ci(pairs.map((p) => p.rps)),
      cpuChange: mean(pairs.map((p) => p.cpu)), cpuCi: ci(pairs.map((p) => p.cpu)),
      extraCpuMs: mean(pairs.map((p) => p.extraCpuMs)), extraCpuCi: ci(pairs.map((p) => p.extraCpuMs)), pauseMs: mode === 'read' ? mean(pairs.map((p) => p.pauseMs)) : null,
      rpsOn: mean(ws.filter((w) => w.on).map((w) => w.rps)), rpsOff: mean(ws.filter((w) => !w.on).map((w) => w.rps)),
      p50On: q(onLat, 0.5), p50Off: q(offLat, 0.5), p99On: q(onLat, 0.99), p99Off: q(offLat, 0.99), maxOn: q(onLat, 1), maxOff: q(offLat, 1),
    }
  } finally {
    if (child.exitCode === null) setTimeout(() => child.kill(), 2000).unref()
  }
}

// All at once: two servers of each variant (the default interval and none) loaded at the same time, continuously, each by its
// own autocannon instance: whatever the machine does, it does to all of them in the same
// second. The servers share the 2 cores (and the load generator), so latency means little
// here; CPU per request, from each server's own process.cpuUsage(), is the figure.
async function together(opt) {
  const autocannon = require('autocannon')
  const names = ['base', 's512']
  const out = []
  for (let rep = 0; rep < opt.togetherReps; rep++) {
    const order = rep % 2 ? ['s512', 'base', 's512', 'base'] : ['base', 's512', 'base', 's512']
    const kids = []
    try {
      for (const v of order) {
        const child = fork(__filename, ['--child', 'server', v], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        kids.push({ v, child, url: `http://127.0.0.1:${(await once(child, (m) => m.port)).port}` })
      }
      const run = (k, duration) => autocannon({ url: k.url, connections: 4, pipelining: 1, requests: REQUESTS, duration })
      await Promise.all(kids.map((k) => run(k, opt.warmup)))
      for (const k of kids) { k.child.send('load'); await once(k.child, (m) => m.loading) }
      const res = await Promise.all(kids.map((k) => run(k, opt.togetherSeconds)))
      for (const [i, k] of kids.entries()) {
        k.child.send('idle')
        const idle = await once(k.child, (m) => m.idle)
        out.push({ rep, variant: k.v, reqPerSec: res[i]['2xx'] / res[i].duration, cpuUsPerReq: (idle.cpuMs * 1000) / idle.served })
      }
    } finally {
      for (const k of kids) { k.child.send('exit'); setTimeout(() => k.child.kill(), 2000).unref() }
    }
    log(`together ${rep + 1}: ${out.filter((r) => r.rep === rep).map((r) => `${r.variant} ${r.reqPerSec.toFixed(0)} req/s ${r.cpuUsPerReq.toFixed(0)} µs`).join(', ')}`)
  }
  const rows = names.map((v) => {
    const rs = out.filter((r) => r.variant === v)
    const per = (rep, k) => mean(out.filter((r) => r.rep === rep && r.variant === v).map((r) => r[k])) / mean(out.filter((r) => r.rep === rep && r.variant === 'base').map((r) => r[k])) - 1
    const reps = [...new Set(out.map((r) => r.rep))]
    return { variant: v, processes: rs.length, cpuUsPerReq: mean(rs.map((r) => r.cpuUsPerReq)), reqPerSec: mean(rs.map((r) => r.reqPerSec)), cpuPaired: reps.map((rep) => per(rep, 'cpuUsPerReq')), rpsPaired: reps.map((rep) => per(rep, 'reqPerSec')) }
  })
  return { out, rows }
}

async function toggle(opt) {
  const out = []
  const runs = [['toggle', 512 * KiB, 1000, opt.toggleSeconds], ['toggle', 64 * KiB, 1000, opt.toggleSeconds], ['read', 512 * KiB, 3000, opt.readSeconds]]
  for (const [mode, intervalBytes, windowMs, seconds] of runs) {
    const r = await windowsRun(mode, intervalBytes, windowMs, seconds, opt)
    out.push(r)
    log(`${mode} @ ${intervalBytes / KiB} KiB, ${windowMs / 1000} s windows: ${r.pairs} pairs; req/s ${pct(r.rpsChange)} ± ${pct(r.rpsCi)}, CPU/req ${pct(r.cpuChange)} ± ${pct(r.cpuCi)} (${r.extraCpuMs.toFixed(0)} ± ${r.extraCpuCi.toFixed(0)} ms per on-window${r.pauseMs !== null ? `; read pause ${r.pauseMs.toFixed(0)} ms` : ''}); on ${r.rpsOn.toFixed(0)} / off ${r.rpsOff.toFixed(0)} req/s; p99 on ${r.p99On.toFixed(1)} / off ${r.p99Off.toFixed(1)} ms, max ${r.maxOn.toFixed(0)} / ${r.maxOff.toFixed(0)} ms`)
  }
  return out
}

// The same cost from its parts, free of the machine's noise: what one sample costs (an
// allocation loop at stack depth ~35, sampled every 4 KiB vs not, alternated in one process)
// times the samples a request takes (the app's bytes allocated per request, from --trace-gc,
// over the interval).
function persampleChild() {
  const inspector = require('node:inspector')
  const v8 = require('node:v8')
  const session = new inspector.Session()
  session.connect()
  const post = (m, p) => session.post(m, p)
  post('HeapProfiler.enable')
  let sink
  const leaf = (n) => { let x; for (let i = 0; i < n; i++) x = { a: i, b: 'x', c: [i] }; sink = x }
  const deep = (d, n) => (d === 0 ? leaf(n) : deep(d - 1, n))
  const run = (ms) => { const t = performance.now(); let n = 0; while (performance.now() - t < ms) { deep(30, 10000); n += 10000 } return ((performance.now() - t) * 1e6) / n }
  // bytes per iteration: the heap's growth over 10000 iterations with no GC between (the most of 5 tries)
  let bytes = 0
  for (let k = 0; k < 5; k++) {
    global.gc()
    const h = v8.getHeapStatistics().used_heap_size
    deep(30, 10000)
    bytes = Math.max(bytes, (v8.getHeapStatistics().used_heap_size - h) / 10000)
  }
  run(300)
  const off = []
  const on = []
  for (let k = 0; k < 10; k++) {
    off.push(run(150))
    post('HeapProfiler.startSampling', { samplingInterval: 4096 })
    on.push(run(150))
    session.disconnect() // stops sampling without a profile
    session.connect()
    post('HeapProfiler.enable')
  }
  const nsOff = median(off)
  const nsOn = median(on)
  process.stdout.write(JSON.stringify({ sink: !!sink, bytesPerIter: bytes, nsOff, nsOn, usPerSample: (nsOn - nsOff) / (bytes / 4096) / 1000 }))
}

async function persample(opt) {
  const micro = await childJson(['--expose-gc', __filename, '--child', 'persample'])
  // the app's allocation per request: --trace-gc over a loaded window, (before − after) summed
  const autocannon = require('autocannon')
  const child = fork(__filename, ['--child', 'server', 'base'], { execArgv: ['--trace-gc'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  let text = ''
  child.stdout.on('data', (d) => { text += d })
  try {
    const { port } = await once(child, (m) => m.port)
    const opts = { url: `http://127.0.0.1:${port}`, connections: opt.connections, pipelining: 1, requests: REQUESTS }
    await autocannon({ ...opts, duration: opt.warmup })
    child.send('load')
    await once(child, (m) => m.loading)
    const from = text.length
    const t0 = Date.now()
    await autocannon({ ...opts, duration: 5 })
    child.send('idle')
    const idle = await once(child, (m) => m.idle)
    const windowMs = Date.now() - t0
    // `[pid:isolate]  12345 ms: Scavenge 60.7 (79.9) -> 53.2 (83.1) MB, …`
    const gcs = [...text.slice(from).matchAll(/\s(\d+) ms: (?:Scavenge|Mark-Compact|Minor Mark-Compact)\D*?([\d.]+) \([\d.]+\) -> ([\d.]+) \(/g)].map((m) => ({ t: Number(m[1]), before: Number(m[2]), after: Number(m[3]) }))
    let allocated = 0 // MB, from the first GC's end to the last GC's start
    for (let i = 1; i < gcs.length; i++) allocated += gcs[i].before - gcs[i - 1].after
    const spanMs = gcs[gcs.length - 1].t - gcs[0].t
    const bytesPerReq = (allocated * MB) / (idle.served * (spanMs / windowMs))
    const usPerReq = (idle.cpuMs * 1000) / idle.served
    const r = { ...micro, gcs: gcs.length, bytesPerReq, usPerReq }
    r.expected = [512 * KiB, 64 * KiB].map((i) => ({ intervalBytes: i, samplesPerReq: bytesPerReq / i, usPerReq: (bytesPerReq / i) * micro.usPerSample, share: ((bytesPerReq / i) * micro.usPerSample) / usPerReq }))
    log(`persample: ${micro.usPerSample.toFixed(1)} µs per sample (${micro.bytesPerIter.toFixed(0)} B/iteration, ${micro.nsOff.toFixed(1)} → ${micro.nsOn.toFixed(1)} ns); the app allocates ${(bytesPerReq / 1024).toFixed(1)} KiB per request (${gcs.length} GCs), ${usPerReq.toFixed(0)} µs CPU per request; expected ${r.expected.map((e) => `${e.intervalBytes / KiB} KiB: ${e.samplesPerReq.toFixed(3)} samples, ${e.usPerReq.toFixed(2)} µs, ${pct(e.share)}`).join('; ')}`)
    return r
  } finally {
    child.send('exit')
    setTimeout(() => child.kill(), 2000).unref()
  }
}

// ---------------------------------------------------------------------------------------------
// memory: what the monitor holds after many reads of a profile with many distinct sites

const SITE_FNS = 2000

// a module of SITE_FNS distinct allocating functions, reached through three layers of callers
function sitesModule() {
  const file = path.join(OUT, 'sampling-sites.js')
  const lines = ["'use strict'", '// generated by benches/sampling.js: one allocation site per function']
  for (let k = 0; k < SITE_FNS; k++) {
    lines.push(`function site${k}(out, n) { const a = new Array(n); for (let i = 0; i < n; i++) a[i] = { site: ${k}, i, tag: 's${k % 97}' }; out.push(a) }`)
  }
  lines.push(`const FNS = [${Array.from({ length: SITE_FNS }, (_, k) => `site${k}`).join(', ')}]`)
  lines.push('function handler(k, out, n) { return FNS[k](out, n) }')
  lines.push('function route(k, out, n) { return handler(k, out, n) }')
  lines.push('function serve(k, out, n) { return route(k, out, n) }')
  lines.push('module.exports = { serve, count: FNS.length }')
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

function prng(seed) {
  let s = seed >>> 0
  return () => { s = (s + 0x6D2B79F5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
}

// base: the floor monitor alone, and a global.gc() where the others read (a read is a full GC:
// the heaps are then shaped alike and only what sampling holds differs)
const MEMORY_VARIANTS = {
  base: { intervalMs: 20 },
  s512: { intervalMs: 20, sampling: { readIntervalMs: 10, budget: 0.5 } },
  s64: { intervalMs: 20, sampling: { intervalBytes: 64 * KiB, readIntervalMs: 10, budget: 0.5 } },
}

async function memoryChild(name, cycles, file) {
  const leakprobe = require(ROOT)
  const { serve, count } = require(file)
  const v8 = require('node:v8')
  const rnd = prng(7)
  const ring = globalThis.__ring = [] // the live part: the last 5 cycles' allocations (~45 MB)
  const usage = () => { global.gc(); global.gc(); const u = process.memoryUsage(); return { rss: u.rss, heapUsed: v8.getHeapStatistics().used_heap_size, external: u.external } }
  const before = usage()
  let m = leakprobe.monitor(MEMORY_VARIANTS[name])
  m.on('error', (e) => { console.error(e); process.exit(4) })
  const wantRead = !!MEMORY_VARIANTS[name].sampling
  const nextTick = () => new Promise((resolve) => {
    const on = (s) => {
      if (wantRead && !s.sampling.read) return
      if (!wantRead) global.gc()
      m.off('stats', on)
      resolve()
    }
    m.on('stats', on)
  })
  let pauseMs = 0
  const alive = setInterval(() => {}, 1000) // the monitor's timer is unref'd
  for (let c = 0; c < cycles; c++) {
    const out = []
    for (let j = 0; j < 200; j++) serve(Math.floor(rnd() * count), out, 800)
    ring.push(out)
    if (ring.length > 5) ring.shift()
    await nextTick()
  }
  clearInterval(alive)
  const sites = m.sites({ limit: 10 })
  if (sites) pauseMs = sites.pauseMs.total
  const held = usage()
  const sitesKept = m.sampler ? m.sampler.history.sites.size : 0
  const reads = m.sampler ? m.sampler.history.reads.length : 0
  const t = performance.now()
  m.stop()
  const stopMs = performance.now() - t
  m = null
  const after = usage()
  process.stdout.write(JSON.stringify({ variant: name, cycles, before, held, after, sitesKept, reads, pauseMsTotal: pauseMs, stopMs }))
}

async function memory(opt) {
  const file = sitesModule()
  const out = []
  for (let run = 0; run < opt.memRuns; run++) {
    for (const name of Object.keys(MEMORY_VARIANTS)) {
      const r = await childJson(['--expose-gc', __filename, '--child', 'memory', name, String(opt.reads), file])
      out.push(r)
      log(`memory run ${run + 1} ${name}: heap ${mb(r.held.heapUsed)}, rss ${mb(r.held.rss)}, ${r.reads} reads kept, ${r.sitesKept} sites kept; after stop(): heap ${mb(r.after.heapUsed)}, rss ${mb(r.after.rss)}; stop() ${r.stopMs.toFixed(0)} ms`)
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// pause: one profile read beside a plain full GC at the same heap

async function pauseChild(heapMb, intervalBytes, repeats) {
  const { Sampler, samplingOptions } = require(path.join(ROOT, 'lib', 'sampling.js'))
  const s = new Sampler(samplingOptions({ intervalBytes }))
  s.start() // sampling while the heap is built: the profile has the heap's samples
  const t0 = performance.now()
  require('./gen-heap').build(heapMb * 1.35) // gen-heap's N MB is ~0.75 N MB of heapUsed
  const buildMs = performance.now() - t0
  global.gc()
  const gcMs = []
  const readMs = []
  const pauseMs = []
  let rec
  for (let i = 0; i < repeats; i++) {
    let t = performance.now()
    global.gc()
    gcMs.push(performance.now() - t)
    t = performance.now()
    rec = s.read()
    readMs.push(performance.now() - t) // the whole call: the inspector's pause, then fold()
    pauseMs.push(rec.pauseMs)
  }
  const t = performance.now()
  s.stop() // HeapProfiler.stopSampling returns a profile too
  const stopMs = performance.now() - t
  process.stdout.write(JSON.stringify({ heapMb, intervalBytes, heapUsed: rec.heapUsed, samples: rec.samples, buildMs, gcMs, pauseMs, readMs, stopMs, sites: s.history.sites.size }))
}

async function pause(opt) {
  const out = []
  for (const heapMb of opt.heaps) {
    for (const intervalBytes of [512 * KiB, 64 * KiB]) {
      const r = await childJson(['--expose-gc', `--max-old-space-size=${Math.max(4096, heapMb * 4)}`, __filename, '--child', 'pause', String(heapMb), String(intervalBytes), String(opt.pauseRepeats)])
      out.push(r)
      log(`pause ~${heapMb} MB @ ${intervalBytes / KiB} KiB: heap ${mb(r.heapUsed)}, ${r.samples} samples, gc ${fmtList(r.gcMs)} ms, read pause ${fmtList(r.pauseMs)} ms, read() ${fmtList(r.readMs)} ms, stop() ${r.stopMs.toFixed(0)} ms (built in ${(r.buildMs / 1000).toFixed(1)} s)`)
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// verdict: a socket.io server whose clients never ack; the time until `leak` names the site

const VERDICT = { clients: 10, perClientPerTick: 4, tickMs: 20 } // 2000 unacked emits/s

function verdictChild(intervalBytes, boundMs) {
  const http = require('node:http')
  const { Server } = require('socket.io')
  const leakprobe = require(ROOT)
  const t0 = Date.now()
  const m = leakprobe.monitor({ intervalMs: 1000, window: 10, sampling: { intervalBytes, readIntervalMs: 1000 } })
  m.on('error', (e) => console.error(`monitor: ${e.message}`))
  const server = http.createServer()
  const io = new Server(server)
  const sockets = new Set()
  let seq = 0
  let pending = 0
  io.on('connection', (s) => { sockets.add(s); s.on('disconnect', () => sockets.delete(s)) })
  // the leak: the clients never ack, so every emitWithAck() promise, its callback and its
  // payload stay in the server socket's `acks` map
  async function notify(socket, value) {
    pending++
    const reply = await socket.emitWithAck('tick', { seq: seq++, at: Date.now(), kind: 'price', value, note: `tick ${seq}` })
    pending--
    return reply
  }
  // the leak's path in the app: notify() (or socket.io's emitWithAck called from it), or its
  // caller broadcastTicks(): once hot, V8 inlines notify() there and charges its bytes to it
  const named = (s) => s.fn === 'notify' || s.fn === 'broadcastTicks' || (s.caller && s.caller.fn === 'notify')
  const reads = []
  let firstNamed = null // the first time m.sites().growing (polled at each tick) named it
  let leak = null // the `leak` event
  const top = (sites) => sites.slice(0, 3).map((x) => ({ fn: x.fn, url: path.basename(x.url || ''), line: x.line, package: x.package, caller: x.caller && `${x.caller.fn}:${x.caller.line}`, share: x.share, liveBytes: x.liveBytes }))
  const finish = (kind) => {
    process.send({ kind, s: (Date.now() - t0) / 1000, leak, firstNamed, reads, pending })
    m.stop()
    io.close()
    process.exit(0)
  }
  m.on('stats', (st) => {
    if (st.sampling.read) reads.push({ t: st.sampling.read.time - t0, pauseMs: st.sampling.read.pauseMs })
    if (firstNamed === null) {
      const g = m.sites().growing
      const at = g.findIndex(named)
      if (at >= 0) firstNamed = { s: (Date.now() - t0) / 1000, rank: at + 1, heapUsed: st.heapUsed, floor: st.postGcHeapUsed, pending, top: top(g) }
    }
    // done once the leak event has come and a site on the leak's path has been named
    if (leak && (leak.rank || firstNamed)) finish('done')
  })
  m.on('leak', (e) => {
    const at = e.sites.findIndex(named)
    const st = m.sites({ limit: 3 })
    leak = { s: (Date.now() - t0) / 1000, rank: at + 1, heapUsed: e.stats.heapUsed, floor: e.stats.postGcHeapUsed, pending, top: top(e.sites), largest: st.largest.map((x) => ({ fn: x.fn, growth: x.growth.map((b) => Math.round(b / 1024)) })), readsInSpan: st.reads.length }
  })
  setTimeout(() => finish('bound'), boundMs).unref()
  function broadcastTicks() {
    for (const s of sockets) for (let k = 0; k < VERDICT.perClientPerTick; k++) notify(s, k)
    io.emit('status', { at: Date.now(), online: sockets.size }) // traffic that does not leak
  }
  server.listen(0, '127.0.0.1', () => {
    process.send({ port: server.address().port })
    setInterval(broadcastTicks, VERDICT.tickMs)
  })
}

async function verdict(opt) {
  const { io: connect } = require('socket.io-client')
  const out = []
  for (const intervalBytes of [512 * KiB, 64 * KiB]) {
    const child = fork(__filename, ['--child', 'verdict', String(intervalBytes), String(opt.verdictBoundMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const { port } = await once(child, (m) => m.port)
    // the clients, in this process: they receive and never call the ack
    const clients = []
    for (let i = 0; i < VERDICT.clients; i++) {
      const c = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false })
      c.on('tick', () => {})
      c.on('status', () => {})
      clients.push(c)
    }
    const r = await once(child, (m) => m.kind)
    clients.forEach((c) => c.close())
    r.intervalBytes = intervalBytes
    out.push(r)
    const site = (x) => x ? `${x.fn} (${x.url}:${x.line})${x.package ? ` [${x.package}]` : ''}${x.caller ? ` ← ${x.caller}` : ''}` : 'none'
    log(`verdict @ ${intervalBytes / KiB} KiB: ${r.kind} at ${r.s.toFixed(1)} s; leak event ${r.leak ? `at ${r.leak.s.toFixed(1)} s, rank ${r.leak.rank}, heap ${mb(r.leak.heapUsed)}, floor ${mb(r.leak.floor)}, ${r.leak.pending} acks, top ${site(r.leak.top[0])}` : 'none'}; sites named it ${r.firstNamed ? `at ${r.firstNamed.s.toFixed(1)} s, rank ${r.firstNamed.rank}, heap ${mb(r.firstNamed.heapUsed)}, top ${site(r.firstNamed.top[0])}` : 'never'}; reads ${JSON.stringify(r.reads)}`)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// schedule: monitor({ sampling: true }) with every default, in the background for the whole run,
// a little work going on; when did it read?

function scheduleChild() {
  const leakprobe = require(ROOT)
  const t0 = Date.now()
  const m = leakprobe.monitor({ sampling: true })
  const reads = []
  m.on('stats', (s) => { if (s.sampling.read) reads.push({ t: (s.sampling.read.time - t0) / 1000, pauseMs: s.sampling.read.pauseMs, heapUsed: s.sampling.read.heapUsed }) })
  const kept = []
  let n = 0
  const work = setInterval(() => {
    const scratch = []
    for (let i = 0; i < 1000; i++) scratch.push({ i, s: `item ${i}` })
    kept.push({ n: n++, at: Date.now() })
  }, 100)
  process.send({ ready: true })
  process.on('message', () => {
    clearInterval(work)
    m.stop()
    process.send({ seconds: (Date.now() - t0) / 1000, reads, ticks: m.samples.length })
    process.exit(0)
  })
}

// ---------------------------------------------------------------------------------------------

function childJson(args) {
  return new Promise((resolve, reject) => {
    const at = args.indexOf(__filename)
    const c = fork(__filename, args.slice(at + 1), { execArgv: args.slice(0, at), stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
    let s = ''
    c.stdout.on('data', (d) => { s += d })
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`child ${args.join(' ')} exited ${code}`))
      try { resolve(JSON.parse(s)) } catch (e) { reject(e) }
    })
  })
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = (xs) => { const m = mean(xs); return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1)) }
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
const mb = (n) => `${(n / MB).toFixed(1)} MB`
const pct = (x) => `${(x * 100).toFixed(1)}%`
const fmtList = (xs) => xs.map((x) => x.toFixed(0)).join('/')
const log = (s) => console.error(s)

function tables(res) {
  const o = []
  if (res.throughput) {
    const o2 = res.opt
    for (const phase of Object.keys(PHASES)) {
      const rows = res.throughput.rows.filter((r) => r.phase === phase)
      if (phase === 'steady') o.push('', `### Throughput, steady state (${o2.rounds} rounds; each round: ${rows.length} fresh servers, ${o2.warmup} s warm-up each, then loaded in turn in ${o2.slice} s slices until each had ${o2.duration} s; ${o2.connections} connections)`, '')
      else o.push('', `### Throughput with reads (readIntervalMs 2 s, intervalMs 1 s; ${o2.rounds} rounds; each round: ${rows.length} fresh servers one after the other, in a rotated order, each ${o2.warmup} s warm-up then one ${o2.duration} s run; ${o2.connections} connections)`, '')
      o.push('| variant | req/s mean ± sd (min–max over rounds) | loss vs base: of the means (paired by round: mean, range) | CPU/req (paired vs base) | p50 | p99 (per round) | p99.9 | max | reads under load per run (pause ms median / max; share of loaded time) | read spacing (median) |')
      o.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |')
      for (const r of rows) {
        const isBase = r.variant === 'base'
        o.push(`| ${r.variant} | ${r.reqPerSec.toFixed(0)} ± ${r.sd.toFixed(0)} (${r.min.toFixed(0)}–${r.max.toFixed(0)}) | ${isBase ? '' : `${pct(r.lossMean)} (${pct(r.lossPaired)}, ${pct(r.lossPairedMin)} … ${pct(r.lossPairedMax)})`} | ${r.cpuUsPerReq.toFixed(0)} µs${isBase ? '' : ` (${r.cpuPaired >= 0 ? '+' : ''}${pct(r.cpuPaired)})`} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(1)} ms (${r.p99s.map((x) => x.toFixed(1)).join(', ')}) | ${r.p999.toFixed(1)} ms | ${r.maxLat.toFixed(0)} ms | ${r.reads ? `${r.readsPerRun.toFixed(1)} (${median(r.pauseMs).toFixed(0)} / ${Math.max(...r.pauseMs).toFixed(0)}; ${pct(r.pauseShare)})` : '0'} | ${r.readGapMs.length ? `${(median(r.readGapMs) / 1000).toFixed(1)} s` : ''} |`)
      }
    }
  }
  if (res.together) {
    o.push('', `### All at once (${res.opt.togetherReps} × 4 servers, two per variant, loaded together for ${res.opt.togetherSeconds} s, 4 connections each)`, '')
    o.push('| variant | processes | CPU/req | vs base, per repetition | req/s each | vs base, per repetition |')
    o.push('| --- | ---: | ---: | ---: | ---: | ---: |')
    for (const r of res.together.rows) {
      const isBase = r.variant === 'base'
      const sig = (xs) => xs.map((x) => `${x >= 0 ? '+' : ''}${pct(x)}`).join(', ')
      o.push(`| ${r.variant} | ${r.processes} | ${r.cpuUsPerReq.toFixed(0)} µs | ${isBase ? '' : sig(r.cpuPaired)} | ${r.reqPerSec.toFixed(0)} | ${isBase ? '' : sig(r.rpsPaired)} |`)
    }
  }
  if (res.toggle) {
    o.push('', `### One server, windows on / off under continuous load (each on-window against the off-windows beside it)`, '')
    o.push('| what | interval | windows | pairs | req/s change (± ~95%) | CPU/req change (± ~95%) | extra CPU per on-window | read pause | p50 on / off | p99 on / off | max on / off |')
    o.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const r of res.toggle) {
      const what = r.mode === 'toggle' ? 'sampler on / off' : 'a read / none (sampling throughout)'
      o.push(`| ${what} | ${r.intervalBytes / KiB} KiB | ${r.windowMs / 1000} s | ${r.pairs} | ${pct(r.rpsChange)} ± ${pct(r.rpsCi)} | ${r.cpuChange >= 0 ? '+' : ''}${pct(r.cpuChange)} ± ${pct(r.cpuCi)} | ${r.extraCpuMs.toFixed(0)} ± ${r.extraCpuCi.toFixed(0)} ms | ${r.pauseMs !== null ? `${r.pauseMs.toFixed(0)} ms` : ''} | ${r.p50On.toFixed(2)} / ${r.p50Off.toFixed(2)} ms | ${r.p99On.toFixed(1)} / ${r.p99Off.toFixed(1)} ms | ${r.maxOn.toFixed(0)} / ${r.maxOff.toFixed(0)} ms |`)
    }
  }
  if (res.persample) {
    const r = res.persample
    o.push('', `### Sampling's cost from its parts`, '')
    o.push(`One sample: ${r.usPerSample.toFixed(1)} µs (allocation loop at stack depth ~35, ${r.bytesPerIter.toFixed(0)} B per iteration: ${r.nsOff.toFixed(1)} ns unsampled, ${r.nsOn.toFixed(1)} ns sampled every 4 KiB). The app: ${(r.bytesPerReq / 1024).toFixed(1)} KiB allocated per request (${r.gcs} GCs in 5 s under load), ${r.usPerReq.toFixed(0)} µs CPU per request.`, '')
    o.push('| interval | samples per request | µs per request | share of a request\'s CPU |')
    o.push('| ---: | ---: | ---: | ---: |')
    for (const e of r.expected) o.push(`| ${e.intervalBytes / KiB} KiB | ${e.samplesPerReq.toFixed(3)} | ${e.usPerReq.toFixed(2)} | ${pct(e.share)} |`)
  }
  if (res.memory) {
    o.push('', `### Memory after ${res.opt.reads} reads (${SITE_FNS} distinct sites; live ~45 MB)`, '')
    o.push('| variant | heap used | RSS | reads kept | sites kept | heap after stop() | RSS after stop() | stop() |')
    o.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const r of res.memory) o.push(`| ${r.variant} | ${mb(r.held.heapUsed)} | ${mb(r.held.rss)} | ${r.reads} | ${r.sitesKept} | ${mb(r.after.heapUsed)} | ${mb(r.after.rss)} | ${r.stopMs.toFixed(0)} ms |`)
    const of = (v, k) => res.memory.filter((r) => r.variant === v).map((r) => r.held[k])
    for (const v of Object.keys(MEMORY_VARIANTS).filter((v) => v !== 'base')) {
      const d = (k) => mean(of(v, k)) - mean(of('base', k))
      const held = mean(res.memory.filter((r) => r.variant === v).map((r) => r.held.heapUsed - r.after.heapUsed))
      o.push('', `${v} − base (means): heap ${d('heapUsed') >= 0 ? '+' : ''}${mb(d('heapUsed'))}, RSS ${d('rss') >= 0 ? '+' : ''}${mb(d('rss'))} (RSS of base runs ${of('base', 'rss').map(mb).join(', ')}); heap freed by stop(): ${mb(held)}`)
    }
  }
  if (res.pause) {
    o.push('', '### Pause of one read', '')
    o.push('| heap used | interval | samples | `global.gc()` | read pause (getSamplingProfile) | `Sampler.read()` (incl. fold) | `stop()` |')
    o.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const r of res.pause) o.push(`| ${mb(r.heapUsed)} | ${r.intervalBytes / KiB} KiB | ${r.samples} | ${median(r.gcMs).toFixed(0)} ms (${fmtList(r.gcMs)}) | ${median(r.pauseMs).toFixed(0)} ms (${fmtList(r.pauseMs)}) | ${median(r.readMs).toFixed(0)} ms | ${r.stopMs.toFixed(0)} ms |`)
  }
  if (res.verdict) {
    const site = (x) => x ? `${x.fn} (${x.url}:${x.line})${x.package ? ` [${x.package}]` : ''}${x.caller ? ` ← ${x.caller}` : ''}${x.share != null ? `, share ${x.share}` : ''}` : '—'
    o.push('', `### Time to a verdict (socket.io, ${VERDICT.clients * VERDICT.perClientPerTick * 1000 / VERDICT.tickMs} unacked emitWithAck()/s; monitor({ intervalMs: 1000, window: 10, sampling: { intervalBytes, readIntervalMs: 1000 } }))`, '')
    o.push('| interval | `leak` event | heap used (floor) then | the event\'s first site | growing sites first name the leak | heap used (floor) then | that site | reads (pause ms) |')
    o.push('| ---: | ---: | ---: | --- | ---: | ---: | --- | --- |')
    for (const r of res.verdict) {
      const l = r.leak
      const f = r.firstNamed
      o.push(`| ${r.intervalBytes / KiB} KiB | ${l ? `${l.s.toFixed(1)} s` : `none in ${r.s.toFixed(0)} s`} | ${l ? `${mb(l.heapUsed)} (${mb(l.floor)})` : ''} | ${l ? (l.top.length ? `${site(l.top[0])}${l.rank ? ` (rank ${l.rank})` : ' (not the leak)'}` : 'no site') : ''} | ${f ? `${f.s.toFixed(1)} s (rank ${f.rank})` : 'never'} | ${f ? `${mb(f.heapUsed)} (${f.floor ? mb(f.floor) : '—'})` : ''} | ${f ? site(f.top[f.rank - 1]) : ''} | ${r.reads.length} (${r.reads.map((x) => x.pauseMs.toFixed(0)).join(', ')}) |`)
    }
  }
  if (res.schedule) {
    const r = res.schedule
    const gaps = r.reads.slice(1).map((x, i) => x.t - r.reads[i].t)
    o.push('', `### The default schedule (monitor({ sampling: true }), in the background for ${r.seconds.toFixed(0)} s)`, '')
    o.push(`${r.reads.length} reads, at ${r.reads.map((x) => `${x.t.toFixed(1)} s`).join(', ')}; gaps ${gaps.map((g) => `${g.toFixed(1)} s`).join(', ')}; pauses ${r.reads.map((x) => `${x.pauseMs} ms`).join(', ')}`)
  }
  return o.join('\n')
}

async function main() {
  const argv = process.argv.slice(2)
  if (argv[0] === '--child') {
    const [kind, ...a] = argv.slice(1)
    if (kind === 'server') return serverChild(a[0])
    if (kind === 'memory') return memoryChild(a[0], Number(a[1]), a[2])
    if (kind === 'pause') return pauseChild(Number(a[0]), Number(a[1]), Number(a[2]))
    if (kind === 'verdict') return verdictChild(Number(a[0]), Number(a[1]))
    if (kind === 'schedule') return scheduleChild()
    if (kind === 'persample') return persampleChild()
    throw new Error(`unknown child ${kind}`)
  }
  const arg = (n, d) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : d }
  const quick = argv.includes('--quick')
  const parts = (arg('--only', 'schedule,throughput,together,toggle,persample,memory,pause,verdict')).split(',')
  const opt = {
    rounds: Number(arg('--rounds', quick ? 1 : 3)),
    duration: Number(arg('--duration', quick ? 4 : 10)),
    slice: Number(arg('--slice', 2)),
    toggleSeconds: quick ? 8 : 24,
    readSeconds: quick ? 12 : 36,
    togetherSeconds: quick ? 5 : 20,
    togetherReps: quick ? 1 : 2,
    warmup: quick ? 1 : 3,
    connections: Number(arg('--connections', 10)),
    reads: Number(arg('--reads', quick ? 15 : 50)),
    memRuns: 1,
    heaps: arg('--heaps', quick ? '100' : '100,1000').split(',').map(Number),
    pauseRepeats: quick ? 2 : 3,
    verdictBoundMs: quick ? 30000 : 60000,
  }
  fs.mkdirSync(OUT, { recursive: true })
  const res = { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0].model, memGiB: Math.round(os.totalmem() / 2 ** 30), loadBefore: os.loadavg(), started: new Date().toISOString(), opt }
  log(`sampling bench: Node ${res.node}, ${res.cpus} × ${res.cpuModel}, ${res.memGiB} GiB; load ${res.loadBefore.map((x) => x.toFixed(2)).join(' ')}`)
  const t = performance.now()
  let schedule = null
  if (parts.includes('schedule')) {
    schedule = fork(__filename, ['--child', 'schedule'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    await once(schedule, (m) => m.ready)
  }
  if (parts.includes('throughput')) res.throughput = await throughput(opt)
  if (parts.includes('together')) res.together = await together(opt)
  if (parts.includes('toggle')) res.toggle = await toggle(opt)
  if (parts.includes('persample')) res.persample = await persample(opt)
  if (parts.includes('memory')) res.memory = await memory(opt)
  if (parts.includes('pause')) res.pause = await pause(opt)
  if (parts.includes('verdict')) res.verdict = await verdict(opt)
  if (schedule) {
    schedule.send('report')
    res.schedule = await once(schedule, (m) => m.seconds !== undefined)
    log(`schedule (defaults): ${res.schedule.reads.length} reads in ${res.schedule.seconds.toFixed(0)} s: ${JSON.stringify(res.schedule.reads)}`)
  }
  res.loadAfter = os.loadavg()
  res.seconds = (performance.now() - t) / 1000
  fs.writeFileSync(path.join(OUT, 'sampling.json'), JSON.stringify(res, null, 2))
  console.log(`Node ${res.node}, ${res.cpus} × ${res.cpuModel}, ${res.memGiB} GiB; load average before ${res.loadBefore.map((x) => x.toFixed(2)).join(', ')}, after ${res.loadAfter.map((x) => x.toFixed(2)).join(', ')}; ${res.seconds.toFixed(0)} s`)
  console.log(tables(res))
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1) })
