'use strict'
// A/B of two builds of the addon on one snapshot: analyzeFile, alternating, each run in a fresh
// process; wall time, parse/analyze timings, peak RSS, and the figures (which must not differ).
//   cp native/*.node /tmp/old.node     (before the change; rebuild after it)
//   node benches/ab.js FILE /tmp/old.node native/leakprobe.linux-x64-gnu.node [--rounds 4]
const { execFileSync } = require('node:child_process')
const path = require('node:path')

if (process.argv[2] === '--child') {
  const [, , , addon, file] = process.argv
  const native = require(path.resolve(addon))
  const t = process.hrtime.bigint()
  native.analyzeFile(file, { top: 20, paths: 5, classes: 20 }).then((json) => {
    const r = JSON.parse(json)
    process.stdout.write(JSON.stringify({
      ms: Math.round(Number(process.hrtime.bigint() - t) / 1e6),
      parseMs: Math.round(r.timings.parseMs),
      analyzeMs: Math.round(r.timings.analyzeMs),
      rssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      figures: [r.snapshot.totalSize, r.top.map((n) => n.retainedSize).join(',')],
    }))
  }, (e) => {
    process.stderr.write(`${e.stack}\n`)
    process.exit(1)
  })
} else {
  const [file, a, b] = process.argv.slice(2)
  const at = process.argv.indexOf('--rounds')
  const rounds = at > 0 ? Number(process.argv[at + 1]) : 4
  if (!file || !a || !b) {
    process.stderr.write('usage: node benches/ab.js FILE ADDON_A ADDON_B [--rounds N]\n')
    process.exit(2)
  }
  const runs = { A: [], B: [] }
  for (let i = 0; i < rounds; i++) {
    for (const [name, addon] of [['A', a], ['B', b]]) {
      const r = JSON.parse(execFileSync(process.execPath, [__filename, '--child', addon, file], { encoding: 'utf8' }))
      runs[name].push(r)
      console.log(name, r.ms, 'ms', `(parse ${r.parseMs}, analyze ${r.analyzeMs})`, `${r.rssMb} MB`)
    }
  }
  const mean = (xs, k) => Math.round(xs.reduce((s, x) => s + x[k], 0) / xs.length)
  for (const name of ['A', 'B']) {
    const xs = runs[name]
    console.log(`${name}: mean ${mean(xs, 'ms')} ms, parse ${mean(xs, 'parseMs')}, analyze ${mean(xs, 'analyzeMs')}, peak ${mean(xs, 'rssMb')} MB`)
  }
  const same = [...runs.A, ...runs.B].every((r) => JSON.stringify(r.figures) === JSON.stringify(runs.A[0].figures))
  console.log(same ? 'figures: the same in every run' : 'figures: DIFFER')
  if (!same) process.exitCode = 1
}
