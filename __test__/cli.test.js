'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const BIN = path.join(__dirname, '..', 'bin', 'leakprobe.js')
const run = (...args) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120000 })

test('leakprobe demo runs a leaky server on loopback, captures, prints the figures, cleans up', () => {
  const r = run('demo', '--requests', '1500')
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /on 127\.0\.0\.1:\d+/)
  assert.match(r.stdout, /sent 1500 requests/)
  assert.match(r.stdout, /captured \d+ nodes: [\d.]+ MB of snapshot → [\d.]+ MB gzip/)
  assert.match(r.stdout, /Biggest retainers/)
  // named as the leak on every Node version (on 24 the cache sits below V8's own classes by size)
  assert.match(r.stdout, /LEAK: [\d,]+ \{body, headers\} objects .* held by .*responseCache/, 'the leaking cache entries are the leak')
  const file = /snapshot: (\S+) \(removed/.exec(r.stdout)[1]
  assert.equal(require('node:fs').existsSync(path.dirname(file)), false, 'demo dir removed')
})

test('usage errors exit 2 with the message on stderr', () => {
  for (const args of [['bogus'], ['demo', '--requests', 'lots'], ['demo', '--nope'], ['analyze']]) {
    const r = run(...args)
    assert.equal(r.status, 2, args.join(' '))
    assert.match(r.stderr, /^leakprobe: /)
    assert.equal(r.stdout, '')
  }
})

test('help and version exit 0', () => {
  assert.match(run('help').stdout, /usage: leakprobe/)
  assert.equal(run('--version').stdout.trim(), require('../package.json').version)
})
