'use strict'
// Progress: analyze()/compare()'s onProgress (polled from the Rust task's counters) and the CLI's
// progress lines (redrawn on a TTY, a line per step elsewhere).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const leakprobe = require('..')
const { createProgress, nativeProgress } = require('../lib/cli/progress')

const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const PHASES = ['starting', 'reading', 'analyzing', 'comparing', 'done']

function wellFormed(states) {
  assert.ok(states.length >= 1)
  for (const s of states) {
    assert.ok(PHASES.includes(s.phase), s.phase)
    assert.ok(Number.isInteger(s.item) && Number.isFinite(s.done) && Number.isFinite(s.total))
    if (s.total) assert.ok(s.done <= s.total)
  }
  assert.equal(states[states.length - 1].phase, 'done', 'the last call says the task is done')
}

test('analyze({ onProgress }) reports the task\'s phases and ends with done', async () => {
  const states = []
  const r = await leakprobe.analyze(FIXTURE, { onProgress: (s) => states.push(s) })
  assert.equal(r.format, 'leakprobe-report/1')
  wellFormed(states)
  await assert.rejects(leakprobe.analyze(FIXTURE, { onProgress: 'yes' }), { code: 'ERR_LEAKPROBE_INVALID_ARG', message: /onProgress/ })
})

test('compare({ onProgress }) ends on the last snapshot; a throwing callback does not break the task', async () => {
  const states = []
  const c = await leakprobe.compare(FIXTURE, FIXTURE, FIXTURE, { onProgress: (s) => states.push(s) })
  assert.equal(c.format, 'leakprobe-compare/1')
  wellFormed(states)
  assert.equal(states[states.length - 1].item, 2)
  const warned = new Promise((resolve) => process.once('warning', resolve))
  const again = await leakprobe.compare(FIXTURE, FIXTURE, { onProgress: () => { throw new Error('boom') } })
  assert.equal(again.format, 'leakprobe-compare/1')
  assert.match((await warned).message, /onProgress callback threw: boom/)
})

function fakeStream(isTTY) {
  return { isTTY, text: '', write(s) { this.text += s } }
}

test('CLI progress off a TTY: a line when a step starts, its sentences, a line when it ends', async () => {
  const stream = fakeStream(false)
  const p = createProgress({ stream })
  const r = await p.run('baseline snapshot', async (s) => {
    s.update('retrying in 2 s')
    s.update({ done: 10, total: 100 }) // byte counts: not worth a line
    return 42
  }, (v) => `got ${v}`)
  assert.equal(r, 42)
  const lines = stream.text.split('\n')
  assert.equal(lines[0], 'leakprobe: baseline snapshot…')
  assert.equal(lines[1], 'leakprobe: baseline snapshot: retrying in 2 s')
  assert.match(lines[2], /^leakprobe: baseline snapshot: got 42, \d+\.\d s$/)
  assert.equal(lines.length, 4)
  // eslint-disable-next-line no-control-regex -- the terminal's escape codes are what this looks for
  assert.doesNotMatch(stream.text, /\r|\x1b/)
  await assert.rejects(p.run('final snapshot', async () => { throw new Error('no') }), /no/)
  assert.match(stream.text, /leakprobe: final snapshot: failed after \d+\.\d s\n$/)
})

test('CLI progress on a TTY: one line redrawn in place with the elapsed time and the bytes', async () => {
  const stream = fakeStream(true)
  const p = createProgress({ stream, tty: true })
  const s = p.step('downloading snapshot x')
  s.update({ done: 512 * 1024, total: 1024 * 1024 })
  await new Promise((r) => setTimeout(r, 250))
  p.log('a note while the spinner runs')
  s.done('saved')
  const redraws = stream.text.split('\r\x1b[K').filter(Boolean)
  assert.ok(redraws.some((l) => /downloading snapshot x… \d+\.\d s {2}512\.0 KB of 1\.00 MB \(50%\)/.test(l)), stream.text)
  assert.match(stream.text, /leakprobe: a note while the spinner runs\n/)
  // eslint-disable-next-line no-control-regex -- the terminal's escape codes are what this looks for
  assert.match(stream.text, /\r\x1b\[Kleakprobe: downloading snapshot x: saved, \d+\.\d s\n$/)
})

test('nativeProgress turns task states into a phase line and, while reading, the bytes', () => {
  const got = []
  const onProgress = nativeProgress({ update: (d) => got.push(d) }, ['baseline', 'target'])
  onProgress({ phase: 'reading', item: 1, done: 5, total: 10 })
  onProgress({ phase: 'reading', item: 1, done: 8, total: 10 })
  onProgress({ phase: 'comparing', item: 1, done: 0, total: 0 })
  onProgress({ phase: 'done', item: 1, done: 0, total: 0 })
  assert.deepEqual(got, [
    'reading target', { text: 'reading target', done: 5, total: 10 },
    { text: 'reading target', done: 8, total: 10 },
    'comparing target',
  ])
})

test('the CLI warns when the token would cross the network in clear text', () => {
  const { RouteClient } = require('../lib/cli/route-client')
  const token = 'x'.repeat(20)
  for (const url of ['http://127.0.0.1:3000/_leakprobe', 'http://localhost:3000/', 'http://[::1]:3000/', 'https://app.example.com/_leakprobe']) {
    assert.equal(new RouteClient(url, token).warning, null, url)
  }
  assert.match(new RouteClient('http://10.0.0.5:3000/_leakprobe', token).warning, /plain http: the token .* unencrypted/)
})
