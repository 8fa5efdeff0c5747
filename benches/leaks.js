'use strict'
// Leak finding on the test scenarios: leakprobe.compare() beside memlab's leak finder on the
// same three snapshots (baseline, target, final) of each scenario.
//   PUPPETEER_SKIP_DOWNLOAD=1 npm --prefix benches install      (@memlab/api)
//   node benches/leaks.js [--scenarios a,b,…]
// For each tool: wall time (fresh child process each) and the rank of the first reported
// suspect/cluster that names the right objects and holder (what the scenario expects).
// memlab runs as `findLeaksBySnapshotFilePaths` with its defaults, and again in the mode of its
// CLI's --trace-all-objects (oversized objects as leaks, no size threshold).
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')

const ROOT = path.join(__dirname, '..')
const OUT = path.join(ROOT, 'bench-out', 'leaks')
const SCENARIOS = ['socketio-acks', 'express-cache', 'listener-per-request', 'timer-per-connection', 'slow-leak-churn',
  'retry-queue', 'closure-chain', 'keepalive-listeners', 'session-store', 'timer-new-lists', 'lru-control']

// the scenario's expectation: any of its names, its holder edge (exact when it says so), its holder
const names = (x) => (Array.isArray(x) ? x : [x])
function matches(s, expect) {
  return names(expect.nameIncludes).some((n) => s.name.includes(n)) &&
    (expect.edgeExact !== undefined ? s.holder.edge === expect.edgeExact : s.holder.edge.includes(expect.edge)) &&
    (!expect.holder || s.holder.name === expect.holder)
}
// memlab's traces are text: any of the names and the edge's name (no `[*]`) in one cluster
function matchesText(t, expect) {
  const edge = (expect.edgeExact ?? expect.edge).replace(/\[\*\]$/, '').replace(/\.$/, '')
  return names(expect.nameIncludes).some((n) => t.includes(n)) && t.includes(edge)
}

const TOOLS = {
  async leakprobe(files, expect) {
    // the thresholds check() uses for these 3-round runs (as the tests do)
    const c = await require(ROOT).compare(files[0], files[1], files[2], { threshold: { bytes: 1, count: 3 } })
    const rank = expect.nameIncludes ? c.suspects.findIndex((s) => matches(s, expect)) + 1 : 0
    const top = c.suspects[0]
    return { leak: c.leak, rank, reported: c.suspects.filter((s) => s.leak).length, top: top && `${top.name} ← ${top.holder.name}.${top.holder.edge}`, count: top && top.count, counts: top && top.counts }
  },
  async memlab(files, expect, traceAll) {
    const { findLeaksBySnapshotFilePaths } = require('@memlab/api')
    const { config } = require('@memlab/core')
    if (traceAll) {
      // what memlab's CLI flag --trace-all-objects turns on
      config.oversizeObjectAsLeak = true
      config.oversizeThreshold = 0
    }
    const workDir = fs.mkdtempSync(path.join(OUT, 'memlab-'))
    const leaks = await findLeaksBySnapshotFilePaths(files[0], files[1], files[2], { workDir, consoleMode: 'SILENT' })
    const texts = leaks.map((l) => JSON.stringify(l))
    const rank = expect.nameIncludes ? texts.findIndex((t) => matchesText(t, expect)) + 1 : 0
    fs.rmSync(workDir, { recursive: true, force: true })
    return { leak: leaks.length > 0, rank, reported: leaks.length }
  },
}

async function child(tool, expectJson, files) {
  const t = performance.now()
  const r = tool === 'memlab-all' ? await TOOLS.memlab(files, JSON.parse(expectJson), true) : await TOOLS[tool](files, JSON.parse(expectJson), false)
  process.stdout.write(JSON.stringify({ ms: performance.now() - t, ...r }))
}

function snapshotsOf(name) {
  const dir = path.join(OUT, name)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const r = spawnSync(process.execPath, [path.join(ROOT, '__test__', 'scenarios', 'run.js'), name, '3', '--keep', dir], { encoding: 'utf8', maxBuffer: 256 << 20 })
  if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`)
  // memlab reads plain JSON only: decompress once, every tool reads the same plain files
  return JSON.parse(r.stdout).files.map((gz) => {
    const plain = gz.replace(/\.gz$/, '')
    fs.writeFileSync(plain, zlib.gunzipSync(fs.readFileSync(gz)))
    fs.rmSync(gz)
    return plain
  })
}

async function main() {
  const argv = process.argv.slice(2)
  if (argv[0] === '--child') return child(argv[1], argv[2], argv.slice(3))
  const i = argv.indexOf('--scenarios')
  const names = i >= 0 ? argv[i + 1].split(',') : SCENARIOS
  fs.mkdirSync(OUT, { recursive: true })
  const rows = []
  for (const name of names) {
    const { expect } = require(path.join(ROOT, '__test__', 'scenarios', `${name}.js`))
    const files = snapshotsOf(name)
    const mb = files.reduce((a, f) => a + fs.statSync(f).size, 0) / 3 / 1e6
    for (const tool of ['leakprobe', 'memlab', 'memlab-all']) {
      const r = spawnSync(process.execPath, ['--max-old-space-size=8000', __filename, '--child', tool, JSON.stringify(expect), ...files], { encoding: 'utf8', cwd: __dirname, timeout: 600000, maxBuffer: 256 << 20 })
      let res
      try { res = JSON.parse(r.stdout) } catch { res = { error: (r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' ') } }
      rows.push({ scenario: name, snapshotMb: +mb.toFixed(1), tool, ...res })
      console.error(name, tool, JSON.stringify(res))
    }
  }
  fs.writeFileSync(path.join(ROOT, 'bench-out', 'leaks.json'), JSON.stringify(rows, null, 2))
  console.log('| scenario | snapshot | tool | time | leak reported | rank of the right suspect | suspects/clusters |')
  console.log('|---|---:|---|---:|---|---:|---:|')
  for (const r of rows) {
    const rank = r.error ? `error: ${r.error.slice(0, 80)}` : r.rank ? `#${r.rank}` : '—'
    console.log(`| ${r.scenario} | ${r.snapshotMb} MB | ${r.tool} | ${r.ms ? (r.ms / 1000).toFixed(2) + ' s' : '—'} | ${r.error ? '—' : r.leak ? 'yes' : 'no'} | ${rank} | ${r.reported ?? '—'} |`)
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
