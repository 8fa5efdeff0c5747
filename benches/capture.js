'use strict'
// Capture benchmark: the ways to get a heap snapshot out of a process holding a ~N MB heap,
// each in a fresh child process, side by side in one run.
//   node benches/capture.js [--heap-mb 300] [--runs 1] [--variants a,b,...]
// Per variant: main-thread blocked time, total time to a complete file, peak RSS increase
// (VmHWM after resetting it through /proc/self/clear_refs, minus VmRSS before), output bytes.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const VARIANTS = {
  'v8.writeHeapSnapshot': async (file) => {
    const t = performance.now()
    require('node:v8').writeHeapSnapshot(file)
    const ms = performance.now() - t
    return { file, blockedMs: ms, totalMs: ms, rawBytes: fs.statSync(file).size }
  },
  'getHeapSnapshot+gzip': async (file) => {
    const zlib = require('node:zlib')
    const { pipeline } = require('node:stream/promises')
    const stalls = stallMeter()
    const t = performance.now()
    let raw = 0
    const src = require('node:v8').getHeapSnapshot()
    src.on('data', (c) => { raw += c.length })
    await pipeline(src, zlib.createGzip(), fs.createWriteStream(file + '.gz'))
    return { file: file + '.gz', blockedMs: stalls.stop(), totalMs: performance.now() - t, rawBytes: raw }
  },
  'leakprobe.capture (fifo)': (file) => leakprobeVariant(file, 'fifo'),
  'leakprobe.capture (inspector)': (file) => leakprobeVariant(file, 'inspector'),
  'leakprobe.capture (stream)': (file) => leakprobeVariant(file, 'stream'),
}

async function leakprobeVariant(file, method) {
  const stalls = stallMeter()
  const r = await require('..').capture({ dir: path.dirname(file), method })
  const blockedMs = method === 'stream' ? stalls.stop() : (stalls.stop(), r.blockedMs)
  // the gzip tail: from V8's last byte (the synchronous call's end) to the renamed file
  return { file: r.file, blockedMs, totalMs: r.durationMs, rawBytes: r.bytes, tailMs: method === 'stream' ? undefined : r.durationMs - r.blockedMs }
}

// For the streaming variants: the event loop's stalls (beyond a 5 ms timer's period), summed.
function stallMeter() {
  let last = performance.now()
  let stalled = 0
  const iv = setInterval(() => {
    const now = performance.now()
    if (now - last > 15) stalled += now - last - 5
    last = now
  }, 5)
  return { stop() { clearInterval(iv); const now = performance.now(); if (now - last > 15) stalled += now - last - 5; return stalled } }
}

const status = () => Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').split('\n').filter((l) => /^Vm(RSS|HWM)/.test(l)).map((l) => [l.split(':')[0], parseInt(l.split(':')[1], 10) * 1024]))

async function child(variant, heapMb, dir) {
  require('./gen-heap').build(heapMb)
  global.gc()
  const heapUsed = process.memoryUsage().heapUsed
  await new Promise((r) => setTimeout(r, 50)) // let the event loop run, so stalls are measurable
  fs.writeFileSync('/proc/self/clear_refs', '5') // reset VmHWM to the current RSS
  const before = status().VmRSS
  const r = await VARIANTS[variant](path.join(dir, 'snap.heapsnapshot'))
  const peak = status().VmHWM
  const outBytes = fs.statSync(r.file).size
  fs.rmSync(r.file, { force: true })
  process.stdout.write(JSON.stringify({ variant, heapUsed, peakRssIncrease: peak - before, outBytes, ...r }))
}

function main() {
  const arg = (n, d) => { const i = process.argv.indexOf(n); return i > 0 ? process.argv[i + 1] : d }
  if (arg('--child')) return child(arg('--child'), Number(arg('--heap-mb')), arg('--dir'))
  const heapMb = Number(arg('--heap-mb', '300'))
  const runs = Number(arg('--runs', '1'))
  const names = arg('--variants') ? arg('--variants').split(',') : Object.keys(VARIANTS)
  const results = []
  for (let run = 0; run < runs; run++) {
    for (const v of names) { // interleaved, so drift in machine load hits every variant alike
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-bench-'))
      const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=16000', __filename, '--child', v, '--heap-mb', String(heapMb), '--dir', dir], { encoding: 'utf8', maxBuffer: 1 << 20 })
      fs.rmSync(dir, { recursive: true, force: true })
      if (r.status !== 0) { console.error(`${v} failed: ${r.stderr}`); continue }
      const one = JSON.parse(r.stdout)
      results.push(one)
      console.error(`run ${run + 1} ${v}: blocked ${one.blockedMs.toFixed(0)} ms, total ${one.totalMs.toFixed(0)} ms, peak RSS +${mb(one.peakRssIncrease)}, out ${mb(one.outBytes)}`)
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
  const rows = names.map((v) => {
    const rs = results.filter((r) => r.variant === v)
    if (!rs.length) return null
    const m = (k) => median(rs.map((r) => r[k] || 0))
    return { variant: v, heapUsed: m('heapUsed'), blockedMs: m('blockedMs'), totalMs: m('totalMs'), peakRssIncrease: m('peakRssIncrease'), outBytes: m('outBytes'), rawBytes: m('rawBytes'), tailMs: rs[0].tailMs == null ? null : m('tailMs') }
  }).filter(Boolean)
  console.log(`| variant | heap used | main thread blocked | total | peak RSS increase | output | raw snapshot | gzip tail after last chunk |`)
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`)
  for (const r of rows) console.log(`| ${r.variant} | ${mb(r.heapUsed)} | ${(r.blockedMs / 1000).toFixed(2)} s | ${(r.totalMs / 1000).toFixed(2)} s | ${mb(r.peakRssIncrease)} | ${mb(r.outBytes)} | ${mb(r.rawBytes)} | ${r.tailMs === null ? '' : `${r.tailMs.toFixed(0)} ms`} |`)
  fs.mkdirSync(path.join(__dirname, '..', 'bench-out'), { recursive: true })
  fs.writeFileSync(path.join(__dirname, '..', 'bench-out', `capture-${heapMb}mb.json`), JSON.stringify({ heapMb, runs, results, rows }, null, 2))
}

const mb = (n) => `${(n / 1048576).toFixed(0)} MB`
main()
