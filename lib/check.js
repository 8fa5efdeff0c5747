'use strict'
// check(): the three-snapshot leak test around an action, in this process.
//   warm-up rounds → baseline → rounds → target → rounds → final → compare
// Objects the action allocates in the first rounds and that are still alive after the second
// ones, in a group that keeps growing, are the leak.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { capture } = require('./capture')
const { compare, compareOptions } = require('./compare')
const { invalidArg } = require('./errors')
const { wholeNumber } = require('./options')

// `counter.n`: the round's number over the whole check (warm-ups included), so that an action
// can make each round's work its own (new keys, new ids)
async function runRounds(action, n, phase, counter) {
  for (let i = 0; i < n; i++) {
    try {
      await action(counter.n++)
    } catch (e) {
      e.message = `check(): the action failed in the ${phase} (round ${i + 1} of ${n}): ${e.message}`
      throw e
    }
  }
}

async function check(action, options = {}) {
  if (typeof action !== 'function') throw invalidArg('check(action, options): `action` must be a function (one round of the work to test)')
  if (options === null || typeof options !== 'object') throw invalidArg('check(): options must be an object')
  const rounds = wholeNumber('check(): `rounds`', options.rounds, { min: 1, max: 1e6, dflt: 5 })
  const warmup = wholeNumber('check(): `warmup`', options.warmup, { max: 1e6, dflt: 2 })
  // Default: one leaked object per round of any size is a leak (a test is quiet otherwise).
  const threshold = options.threshold === undefined ? { bytes: 1, count: rounds } : options.threshold
  const cmpOpts = compareOptions({ threshold, suspects: options.suspects, classes: options.classes }, 'check')
  const keep = options.keep === true
  if (options.keep !== undefined && typeof options.keep !== 'boolean') throw invalidArg('check(): `keep` must be true or false')
  if (options.dir !== undefined && (typeof options.dir !== 'string' || options.dir === '')) throw invalidArg('check(): `dir` must be a directory path')
  const dir = options.dir ? path.resolve(options.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-check-'))
  const owned = !options.dir
  const files = []
  try {
    const counter = { n: 0 }
    await runRounds(action, warmup, 'warm-up', counter)
    const shots = []
    for (const phase of ['baseline', 'target', 'final']) {
      if (phase !== 'baseline') await runRounds(action, rounds, `rounds before the ${phase} snapshot`, counter)
      const c = await capture({ dir })
      files.push(c.file)
      shots.push(c)
    }
    const result = await compare(shots[0], shots[1], shots[2], {
      threshold: { bytes: cmpOpts.thresholdBytes, count: cmpOpts.thresholdCount },
      suspects: cmpOpts.suspects,
      classes: cmpOpts.classes,
    })
    if (keep) result.files = files.slice()
    return result
  } finally {
    if (!keep) {
      for (const f of files) fs.rmSync(f, { force: true })
      if (owned) fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

module.exports = { check }
