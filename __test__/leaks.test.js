'use strict'
// Real leaks in real servers (express, node:http, socket.io), each in a child process on
// loopback with bounded traffic, found by leakprobe.check(): the right class and holder edge
// among the top 3 suspects; the bounded-LRU control under the same load is no leak.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFile } = require('node:child_process')

const RUN = path.join(__dirname, 'scenarios', 'run.js')

function scenario(name) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [RUN, name], { encoding: 'utf8', timeout: 90000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${name} failed: ${err.message}\n${stderr}`))
      resolve(JSON.parse(stdout))
    })
  })
}

const show = (c) => JSON.stringify(c.suspects.slice(0, 3).map((s) => ({ name: s.name, count: s.count, counts: s.counts, holder: s.holder })))

const CASES = ['socketio-acks', 'express-cache', 'listener-per-request', 'timer-per-connection', 'slow-leak-churn']

for (const name of CASES) {
  test(`finds the leak: ${name}`, async () => {
    const { expect } = require(`./scenarios/${name}`)
    const c = await scenario(name)
    assert.equal(c.leak, true, show(c))
    const hit = c.suspects.slice(0, 3).find((s) => s.name.includes(expect.nameIncludes) && s.holder.edge.includes(expect.edge) &&
      (!expect.holder || s.holder.name === expect.holder))
    assert.ok(hit, `${expect.nameIncludes} held by …${expect.edge} in the top 3: ${show(c)}`)
    assert.ok(hit.leak && hit.growing && hit.count >= 3, show(c))
  })
}

test('no leak: a bounded LRU cache that evicts, under the same load', async () => {
  const c = await scenario('lru-control')
  assert.equal(c.leak, false, show(c))
  assert.ok(!c.suspects.some((s) => s.leak), show(c))
})
