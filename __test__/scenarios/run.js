'use strict'
// Runs one leak scenario in this (child) process: its server on 127.0.0.1, bounded traffic
// over loopback, leakprobe.check() around one round of it; prints the comparison as JSON.
//   node __test__/scenarios/run.js <scenario> [rounds] [--keep DIR]   (--keep: leave the snapshots in DIR)
const path = require('node:path')
const leakprobe = require('../..')

async function main() {
  const name = process.argv[2]
  const rounds = Number(process.argv[3] || 3)
  const k = process.argv.indexOf('--keep')
  const keep = k > 0 ? { keep: true, dir: process.argv[k + 1] } : {}
  const scenario = require(path.join(__dirname, `${name}.js`))
  const s = await scenario.setup()
  try {
    const c = await leakprobe.check(() => s.round(), { rounds, warmup: 2, ...keep })
    process.stdout.write(JSON.stringify(c))
  } finally {
    await s.close()
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`)
  process.exit(3)
})
