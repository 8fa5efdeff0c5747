'use strict'
// Runs one leak scenario under monitor({ sampling }) in this (child) process: its server on
// 127.0.0.1, bounded rounds of loopback traffic (sent from a child of this one), a profile read
// after each round; prints the
// monitor's sites (growing and largest) as JSON.
//   node __test__/scenarios/sites.js <scenario> [reads] [intervalBytes] [roundsPerRead] [warmupRounds]
const path = require('node:path')
const leakprobe = require('../..')
const { useClientProcess } = require('./http-util')

async function main() {
  const name = process.argv[2]
  const reads = Number(process.argv[3] || 10)
  const intervalBytes = Number(process.argv[4] || 16384)
  const roundsPerRead = Number(process.argv[5] || 1)
  const warmup = Number(process.argv[6] || 2)
  // the profile is of the server alone: its traffic comes from another process
  useClientProcess()
  const scenario = require(path.join(__dirname, `${name}.js`))
  const s = await scenario.setup()
  try {
    const m = leakprobe.monitor({ intervalMs: 60_000, window: 10_000, sampling: { intervalBytes, readIntervalMs: 2 ** 31 - 1 } })
    m.on('error', (e) => { throw e })
    try {
      // the sampler sees only what is allocated once it runs: a bounded cache filled before
      // looks as if it grew until its entries have all been replaced once, so the warm-up runs
      // under it, read as the monitor would, and the verdict looks at the reads after it
      for (let i = 0; i < warmup; i++) {
        await s.round()
        m.sampler.read()
      }
      const since = Date.now()
      // every read is in the window; the profile is read after each batch of rounds (the same
      // read the monitor's schedule makes), never during one
      for (let r = 0; r < reads; r++) {
        for (let i = 0; i < roundsPerRead; i++) await s.round()
        m.sampler.read()
      }
      process.stdout.write(JSON.stringify(m.sampler.state({ since, limit: 5 })))
    } finally {
      m.stop()
    }
  } finally {
    await s.close()
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`)
  process.exit(3)
})
