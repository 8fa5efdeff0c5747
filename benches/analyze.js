'use strict'
// Analysis benchmark: end to end from the snapshot file to retained sizes, side by side in one run.
//   PUPPETEER_SKIP_DOWNLOAD=1 npm --prefix benches install      (memlab, @vscode/v8-heap-parser)
//   node benches/analyze.js [--sizes 50,300,1000] [--tools leakprobe,devtools,vscode,memlab,floor]
//                           [--devtools ../shared/tools/devtools-oracle.mjs] [--timeout-s 1200]
// Snapshots are generated once into bench-out/ with benches/gen-heap.js (deterministic).
// Each tool runs in a fresh child process; wall time and peak RSS (the child's maxRSS) per tool.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const OUT = path.join(ROOT, 'bench-out')

const TOOLS = {
  // leakprobe: parse + dominators + retained sizes + report, on its own thread
  async leakprobe(file) {
    const r = await require(ROOT).analyze(file, { top: 20 })
    return { nodes: r.snapshot.nodes, topRetained: r.top[0].retainedSize, note: `parse ${r.timings.parseMs.toFixed(0)} ms, analyze ${r.timings.analyzeMs.toFixed(0)} ms` }
  },
  async vscode(file) {
    const { decode_bytes: decode } = require('@vscode/v8-heap-parser')
    const g = decode(fs.readFileSync(file))
    const groups = g.get_class_groups(0, 20, false)
    return { topRetained: Number(groups[0].retained_size) }
  },
  async memlab(file) {
    const { utils, TraceFinder } = require('@memlab/core')
    const heap = await utils.getSnapshotFromFile(file, { buildNodeIdIndex: true })
    // what memlab's own analyses do first (HeapAnalyzer.preparePathFinder): distances, then
    // dominators and retained sizes; without it every retainedSize stays 0
    const finder = new TraceFinder()
    finder.annotateShortestPaths(heap)
    finder.calculateAllNodesRetainedSizes(heap)
    let best = 0
    heap.nodes.forEach((n) => { if (n.retainedSize > best && n.type !== 'synthetic') best = n.retainedSize })
    return { nodes: heap.nodes.length, topRetained: best }
  },
  // the floor: reading the file, and one pass over its bytes
  async floor(file) {
    const t = performance.now()
    const buf = fs.readFileSync(file)
    const readMs = performance.now() - t
    let commas = 0
    for (let i = 0; i < buf.length; i++) if (buf[i] === 44) commas++
    return { note: `read ${readMs.toFixed(0)} ms, ${commas} commas` }
  },
}

async function child(tool, file) {
  const t = performance.now()
  const r = await TOOLS[tool](file)
  const ms = performance.now() - t
  process.stdout.write(JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, ...r }))
}

// every tool starts with the file in the page cache (a tool that runs after a memory-hungry one
// would otherwise read a 1 GB file from disk and lose seconds the others did not)
function warmPageCache(file) {
  const fd = fs.openSync(file, 'r')
  const buf = Buffer.allocUnsafe(16 << 20)
  try {
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    fs.closeSync(fd)
  }
}

function runTool(tool, file, args) {
  warmPageCache(file)
  const timeout = Number(args.timeoutS) * 1000
  let cmd
  if (tool === 'devtools') {
    cmd = [process.execPath, ['--max-old-space-size=16000', path.resolve(args.devtools), file, '--top', '20']]
  } else {
    cmd = [process.execPath, ['--max-old-space-size=16000', __filename, '--child', tool, file]]
  }
  const t = performance.now()
  // /usr/bin/time gives every tool's peak RSS the same way, including DevTools' script;
  // timeout(1) kills the tool itself when its time is up (a timed-out tool left running would
  // slow down the ones after it)
  const r = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M', 'timeout', '-s', 'KILL', String(args.timeoutS), cmd[0], ...cmd[1]], { encoding: 'utf8', timeout: timeout + 30_000, maxBuffer: 1 << 30, cwd: __dirname })
  const wall = performance.now() - t
  const m = /__TIME__ ([\d.]+) (\d+)/.exec(r.stderr || '')
  const peakMb = m ? Number(m[2]) / 1024 : null
  if (r.error || r.status !== 0) {
    // the error line itself, not the stack under it
    const lines = (r.stderr || '').split('\n').filter((l) => l && !l.startsWith('__TIME__') && !/^\s+at /.test(l) && !/exited with non-zero status/.test(l))
    const said = lines.find((l) => /Error|error:|trap|unreachable/.test(l)) || lines.slice(-2).join(' / ')
    const timedOut = (r.error && r.error.code === 'ETIMEDOUT') || /Command terminated by signal 9/.test(r.stderr || '')
    const why = timedOut ? `timed out after ${args.timeoutS} s` : `exit ${r.status ?? r.signal}: ${said.trim().slice(0, 200)}`
    return { tool, ok: false, wallMs: wall, peakMb, why }
  }
  let extra
  if (tool === 'devtools') {
    const o = JSON.parse(r.stdout)
    extra = { nodes: o.snapshot.nodes, topRetained: o.top[0] && o.top[0].retainedSize }
  } else {
    extra = JSON.parse(r.stdout)
  }
  return { tool, ok: true, wallMs: wall, peakMb, ...extra }
}

function snapshotFor(mb) {
  fs.mkdirSync(OUT, { recursive: true })
  const file = path.join(OUT, `gen-${mb}mb.heapsnapshot`)
  if (!fs.existsSync(file)) {
    // about 2 bytes of snapshot per byte of live heap with this generator
    const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=16000', path.join(__dirname, 'gen-heap.js'), '--heap-mb', String(Math.round(mb / 2)), '--write', file], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`generating ${file} failed`)
  }
  return file
}

async function main() {
  const argv = process.argv
  const arg = (n, d) => { const i = argv.indexOf(n); return i > 0 ? argv[i + 1] : d }
  if (arg('--child')) return child(arg('--child'), argv[argv.indexOf('--child') + 2])
  const args = {
    sizes: arg('--sizes', '50,300,1000').split(',').map(Number),
    tools: arg('--tools', 'leakprobe,devtools,vscode,memlab,floor').split(','),
    devtools: arg('--devtools', path.join(ROOT, '..', 'shared', 'tools', 'devtools-oracle.mjs')),
    timeoutS: arg('--timeout-s', '1200'),
  }
  const results = []
  for (const mb of args.sizes) {
    const file = snapshotFor(mb)
    const size = fs.statSync(file).size
    for (const tool of args.tools) {
      if (tool === 'devtools' && !fs.existsSync(args.devtools)) { console.error(`skipping devtools: ${args.devtools} not found`); continue }
      const r = runTool(tool, file, args)
      r.file = path.basename(file)
      r.fileMb = size / 1048576
      results.push(r)
      console.error(`${r.file} (${r.fileMb.toFixed(0)} MB) ${tool}: ${r.ok ? `${(r.wallMs / 1000).toFixed(2)} s, peak ${r.peakMb.toFixed(0)} MB` : `FAILED ${r.why}`} ${r.note || ''}`)
    }
  }
  console.log('| snapshot | tool | wall time | peak RSS | peak RSS / file | top retained size | note |')
  console.log('| --- | --- | ---: | ---: | ---: | ---: | --- |')
  for (const r of results) {
    console.log(`| ${r.file} (${r.fileMb.toFixed(0)} MB) | ${r.tool} | ${r.ok ? (r.wallMs / 1000).toFixed(2) + ' s' : 'failed'} | ${r.peakMb == null ? '' : r.peakMb.toFixed(0) + ' MB'} | ${r.peakMb == null ? '' : (r.peakMb / r.fileMb).toFixed(2) + 'x'} | ${r.topRetained ?? ''} | ${r.ok ? (r.note || '') : r.why} |`)
  }
  fs.writeFileSync(path.join(OUT, 'analyze.json'), JSON.stringify(results, null, 2))
}

main().catch((e) => { console.error(e); process.exit(1) })
