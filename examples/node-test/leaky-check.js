'use strict'
// The same test on the unbounded lookup: it fails, and the failure message names the leak
// (`{userId, name, roles, settings, loadedAt}` objects held by Map.cache). Run it with
// `npm run test:leaky`; it is not named *.test.js so that `npm test` stays green.
const test = require('node:test')
const assert = require('node:assert')
const leakprobe = require('leakprobe')
const { memoize } = require('./memoize')
const { loadProfile } = require('./lookup')

test('an unbounded memoized lookup leaks (this test fails on purpose)', async () => {
  const lookup = memoize(loadProfile)
  const result = await leakprobe.check(async (round) => {
    for (let i = 0; i < 500; i++) await lookup(`${round}-${i}`)
  }, { rounds: 5 })
  assert.equal(result.leak, false, leakprobe.format(result))
})
