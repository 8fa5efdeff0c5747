'use strict'
// Real leaks in real servers (express, node:http, socket.io), each in a child process on
// loopback with bounded traffic, found by leakprobe.check(): the right class and holder edge
// at rank 1, with exact counts where the scenario knows them; the bounded-LRU control under
// the same load is no leak.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFile } = require('node:child_process')

const RUN = path.join(__dirname, 'scenarios', 'run.js')
// check()'s rounds between the baseline and the target (run.js's default)
const ROUNDS = 3

function scenario(name) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [RUN, name, String(ROUNDS)], { encoding: 'utf8', timeout: 90000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${name} failed: ${err.message}\n${stderr}`))
      resolve(JSON.parse(stdout))
    })
  })
}

const show = (c) => JSON.stringify(c.suspects.slice(0, 3).map((s) => ({ name: s.name, count: s.count, counts: s.counts, classCounts: s.classCounts, holder: s.holder })))

const CASES = [
  'socketio-acks', 'express-cache', 'listener-per-request', 'timer-per-connection', 'slow-leak-churn',
  // chains, shared scopes, keyed stores, timers under new lists
  'retry-queue', 'closure-chain', 'keepalive-listeners', 'session-store', 'timer-new-lists',
]

const names = (x) => (Array.isArray(x) ? x : [x])

for (const name of CASES) {
  test(`finds the leak at rank 1: ${name}`, async () => {
    const { expect } = require(`./scenarios/${name}`)
    const c = await scenario(name)
    assert.equal(c.leak, true, show(c))
    const top = c.suspects[0]
    assert.ok(names(expect.nameIncludes).some((n) => top.name.includes(n)), `rank 1 is ${expect.nameIncludes}: ${show(c)}`)
    if (expect.edgeExact !== undefined) assert.equal(top.holder.edge, expect.edgeExact, show(c))
    else assert.ok(top.holder.edge.includes(expect.edge), `held by …${expect.edge}: ${show(c)}`)
    // a summarised edge counts the dictionary's keys: one per object of the group there
    if (top.holder.edge.endsWith('[*]')) assert.equal(top.holder.keys, top.counts.at(-1), show(c))
    else assert.equal(top.holder.keys, undefined, show(c))
    if (expect.holder) assert.equal(top.holder.name, expect.holder, show(c))
    assert.ok(top.leak && top.growing && top.count >= 3, show(c))
    // the group's own counts rise, and stay within the class's
    assert.ok(top.counts.every((n, i) => i === 0 || n > top.counts[i - 1]), show(c))
    assert.ok(top.counts.every((n, i) => n <= top.classCounts[i]), show(c))
    if (expect.perRound) {
      // exactly what the rounds before the target added: every node of a chain, no object
      // that merely took over a freed id
      assert.equal(top.count, expect.perRound * ROUNDS, show(c))
      assert.equal(top.counts[1] - top.counts[0], expect.perRound * ROUNDS, show(c))
    }
    if (expect.perRoundMin) {
      assert.ok(top.count >= expect.perRoundMin * ROUNDS && top.count <= expect.perRoundMin * ROUNDS + 5, show(c))
      assert.equal(top.counts[1] - top.counts[0], top.count, show(c))
    }
  })
}

test('no leak: a bounded LRU cache that evicts, under the same load', async () => {
  const c = await scenario('lru-control')
  assert.equal(c.leak, false, show(c))
  assert.ok(!c.suspects.some((s) => s.leak), show(c))
})
