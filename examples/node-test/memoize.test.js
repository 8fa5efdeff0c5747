'use strict'
// A leak test in node:test: leakprobe.check() runs the action in rounds around three heap
// snapshots of this process and reports any group of objects that keeps growing.
const test = require('node:test')
const assert = require('node:assert')
const leakprobe = require('leakprobe')
const { memoize } = require('./memoize')
const { loadProfile } = require('./lookup')

test('a bounded memoized lookup does not leak, whatever the keys', async () => {
  const lookup = memoize(loadProfile, { max: 100 })
  const result = await leakprobe.check(async (round) => {
    for (let i = 0; i < 500; i++) await lookup(`${round}-${i}`)
  }, { rounds: 5 })
  // on failure, the message is the report: what grew, how many, and who holds it
  assert.equal(result.leak, false, leakprobe.format(result))
})
