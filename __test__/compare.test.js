'use strict'
// compare(), check() and the compare CLI on real snapshots of child processes and of this one.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const leakprobe = require('..')

const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const BIN = path.join(__dirname, '..', 'bin', 'leakprobe.js')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-compare-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

// three kept snapshots of a child whose `registry` keeps every session
function leakySnapshots() {
  const dir = path.join(tmp, 'leaky')
  const script = `
    const lp = require(${JSON.stringify(path.join(__dirname, '..'))})
    class Session { constructor(i) { this.id = i; this.token = 't'.repeat(64) + i } }
    const registry = new Map()
    let n = 0
    lp.check(() => { for (let i = 0; i < 100; i++) registry.set(n, new Session(n++)) }, { dir: ${JSON.stringify(dir)}, keep: true, rounds: 2 })
      .then((c) => process.stdout.write(JSON.stringify(c.files)))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

let files
test('compare(): new objects alive in target and final, grouped by class and holder', async () => {
  files = leakySnapshots()
  assert.equal(files.length, 3)
  const c = await leakprobe.compare(files[0], files[1], files[2])
  assert.equal(c.format, 'leakprobe-compare/1')
  assert.equal(c.leak, true)
  const top = c.suspects[0]
  assert.equal(top.name, 'Session')
  // the 200 sessions of the rounds before the target (those after it are not in the target)
  assert.equal(top.count, 200)
  assert.deepEqual([top.holder.name, top.holder.edge], ['system / Context', 'registry'])
  assert.ok(top.counts[0] < top.counts[1] && top.counts[1] < top.counts[2], `${top.counts}`)
  assert.ok(top.retainedSize >= top.selfSize && top.selfSize > 0)
  assert.equal(top.sampleIds.length, 5)
  assert.equal(top.path.at(-1).name, 'Session')
  assert.ok(top.path.some((s) => s.edge === 'registry'), JSON.stringify(top.path))
  const row = c.classes.find((r) => r.name === 'Session')
  assert.ok(row.new >= 400 && row.countDelta === row.new - row.deleted && row.sizeDelta > 0, JSON.stringify(row))
  assert.deepEqual(c.snapshots.map((s) => s.role), ['baseline', 'target', 'final'])
  assert.ok(c.growth.objects > 0 && c.growth.bytes > 0)
  // a threshold above what leaked holds the verdict back, the figures stay
  const strict = await leakprobe.compare(files[0], files[1], files[2], { threshold: '100mb' })
  assert.equal(strict.leak, false)
  assert.equal(strict.suspects[0].name, 'Session')
  // two snapshots: everything new in the target
  const two = await leakprobe.compare(files[0], files[2], { threshold: { bytes: 1, count: 1 } })
  assert.equal(two.snapshots.length, 2)
  assert.equal(two.suspects.find((s) => s.name === 'Session').count, 400)
})

test('compare(): the same snapshot twice has nothing new', async () => {
  const c = await leakprobe.compare(FIXTURE, FIXTURE, FIXTURE)
  assert.equal(c.leak, false)
  assert.deepEqual(c.suspects, [])
  assert.deepEqual(c.classes, [])
  assert.deepEqual(c.growth, { bytes: 0, objects: 0 })
})

test('compare(): bad arguments and bad snapshots are errors with codes', async () => {
  await assert.rejects(leakprobe.compare(FIXTURE), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
  await assert.rejects(leakprobe.compare(FIXTURE, Buffer.from('{}')), { code: 'ERR_LEAKPROBE_INVALID_ARG', message: /write the bytes to a file/ })
  await assert.rejects(leakprobe.compare(FIXTURE, FIXTURE, { threshold: 'lots' }), { code: 'ERR_LEAKPROBE_INVALID_ARG', message: /threshold/ })
  await assert.rejects(leakprobe.compare(FIXTURE, path.join(tmp, 'missing.heapsnapshot')), { code: 'ERR_LEAKPROBE_SNAPSHOT', message: /no such file/ })
  const bad = path.join(tmp, 'bad.heapsnapshot')
  fs.writeFileSync(bad, '{"snapshot":{"meta":')
  await assert.rejects(leakprobe.compare(FIXTURE, FIXTURE, bad), { code: 'ERR_LEAKPROBE_SNAPSHOT', message: /byte \d+/ })
})

test('CLI compare: exit 1 on a leak, 0 when clean, 2 on errors', () => {
  assert.ok(files, 'snapshots from the first test')
  const leak = spawnSync(process.execPath, [BIN, 'compare', ...files], { encoding: 'utf8' })
  assert.equal(leak.status, 1, leak.stderr)
  assert.match(leak.stdout, /LEAK: 200 Session objects .* held by system \/ Context\.registry/)
  const json = spawnSync(process.execPath, [BIN, 'compare', ...files, '--json'], { encoding: 'utf8' })
  assert.equal(json.status, 1)
  assert.equal(JSON.parse(json.stdout).suspects[0].name, 'Session')
  const held = spawnSync(process.execPath, [BIN, 'compare', ...files, '--threshold', '1gb,10'], { encoding: 'utf8' })
  assert.equal(held.status, 0, held.stderr)
  assert.match(held.stdout, /no leak/)
  const clean = spawnSync(process.execPath, [BIN, 'compare', FIXTURE, FIXTURE], { encoding: 'utf8' })
  assert.equal(clean.status, 0, clean.stderr)
  const usage = spawnSync(process.execPath, [BIN, 'compare', FIXTURE], { encoding: 'utf8' })
  assert.equal(usage.status, 2)
  assert.match(usage.stderr, /baseline and a target/)
  const missing = spawnSync(process.execPath, [BIN, 'compare', FIXTURE, path.join(tmp, 'nope.heapsnapshot')], { encoding: 'utf8' })
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /ERR_LEAKPROBE_SNAPSHOT/)
})

test('check(): a leaking action is a leak, a clean one is not, snapshots are removed', async () => {
  const dir = path.join(tmp, 'check')
  const kept = []
  let n = 0
  const leaky = await leakprobe.check(() => { for (let i = 0; i < 20; i++) kept.push({ round: n, slot: `s${n++}` }) }, { dir, rounds: 3 })
  assert.equal(leaky.leak, true)
  assert.equal(leaky.suspects[0].count, 60)
  assert.equal(leaky.suspects[0].holder.edge, 'kept')
  assert.deepEqual(fs.readdirSync(dir), [], 'no snapshot left behind')
  let scratch = null
  const clean = await leakprobe.check(() => { scratch = Array.from({ length: 20 }, (_, i) => ({ i })) }, { dir, rounds: 3 })
  assert.equal(clean.leak, false, JSON.stringify(clean.suspects.slice(0, 3)))
  assert.ok(scratch)
  assert.deepEqual(fs.readdirSync(dir), [])
})

test('check(): a failing action rejects and leaves nothing; options are checked', async () => {
  const dir = path.join(tmp, 'check-fail')
  let calls = 0
  await assert.rejects(leakprobe.check(() => { if (++calls === 4) throw new Error('boom') }, { dir, rounds: 2, warmup: 1 }), /check\(\): the action failed .*: boom/)
  assert.deepEqual(fs.readdirSync(dir), [])
  await assert.rejects(leakprobe.check('nope'), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
  await assert.rejects(leakprobe.check(() => {}, { rounds: 0 }), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
})
