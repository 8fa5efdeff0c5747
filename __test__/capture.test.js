'use strict'
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawnSync } = require('node:child_process')
const leakprobe = require('..')

const CHILD = path.join(__dirname, 'helpers', 'capture-child.js')

function runChild(options, { ulimitKb } = {}) {
  const arg = JSON.stringify(options)
  const r = ulimitKb
    ? spawnSync('bash', ['-c', `ulimit -f ${ulimitKb}; exec "${process.execPath}" "${CHILD}" "$0"`, arg], { encoding: 'utf8', timeout: 120000 })
    : spawnSync(process.execPath, [CHILD, arg], { encoding: 'utf8', timeout: 120000 })
  assert.equal(r.status, 0, `child failed: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

const made = []
function tmpDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-test-'))
  made.push(d)
  return d
}
after(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }) })

// Parses the snapshot's strings and finds a node named `name`: proves the file is this heap.
function findNodeNamed(json, name) {
  const snap = JSON.parse(json)
  const { node_fields: nf } = snap.snapshot.meta
  const nameIdx = snap.strings.indexOf(name)
  if (nameIdx < 0) return { snap, found: false }
  const width = nf.length
  const nameOff = nf.indexOf('name')
  for (let i = 0; i < snap.nodes.length; i += width) if (snap.nodes[i + nameOff] === nameIdx) return { snap, found: true }
  return { snap, found: false }
}

test('capture() writes a gzip snapshot of this live heap, 0600 in a 0700 dir, nothing else left', () => {
  const dir = path.join(tmpDir(), 'snaps') // does not exist yet: capture creates it
  const { result, marker } = runChild({ dir })
  assert.match(result.id, /^[0-9TZ-]+-[0-9a-f]{8}$/)
  assert.equal(result.file, path.join(dir, `${result.id}.heapsnapshot.gz`))
  assert.deepEqual(fs.readdirSync(dir), [path.basename(result.file)], 'no temp file or FIFO left behind')
  assert.equal(fs.statSync(result.file).mode & 0o777, 0o600)
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700)
  assert.equal(fs.statSync(result.file).size, result.compressedBytes)
  const raw = zlib.gunzipSync(fs.readFileSync(result.file))
  assert.equal(raw.length, result.bytes)
  assert.ok(result.compressedBytes * 4 < result.bytes, 'gzip shrinks the snapshot')
  const { snap, found } = findNodeNamed(raw.toString('utf8'), 'LeakprobeMarkerClass')
  assert.ok(found, 'the marker class instance is in the snapshot')
  assert.ok(snap.strings.includes(marker), 'the marker string is in the snapshot')
  assert.equal(result.nodes, snap.snapshot.node_count)
  assert.ok(result.blockedMs > 0 && result.blockedMs <= result.durationMs)
  assert.equal(result.method, process.platform === 'win32' ? 'inspector' : 'fifo')
})

test('capture({ gzip: false }) and the inspector feeder write a plain, parseable snapshot', () => {
  const dir = tmpDir()
  const { result } = runChild({ dir, gzip: false, method: 'inspector' })
  assert.equal(result.file, path.join(dir, `${result.id}.heapsnapshot`))
  assert.equal(result.method, 'inspector')
  const raw = fs.readFileSync(result.file, 'utf8')
  assert.equal(Buffer.byteLength(raw), result.bytes)
  assert.ok(findNodeNamed(raw, 'LeakprobeMarkerClass').found)
})

test("capture({ method: 'stream' }) finishes with this heap's snapshot (Node 18's stream stalls when pulled)", () => {
  const dir = tmpDir()
  const { result } = runChild({ dir, method: 'stream' })
  assert.equal(result.method, 'stream')
  assert.ok(result.nodes > 0 && result.bytes > 0)
  const raw = zlib.gunzipSync(fs.readFileSync(result.file)).toString('utf8')
  assert.equal(Buffer.byteLength(raw), result.bytes)
  assert.ok(findNodeNamed(raw, 'LeakprobeMarkerClass').found)
})

test('a same-pass analysis that fails says where in the snapshot, apart from its message', async () => {
  const native = require('../lib/native')
  const dir = tmpDir()
  const cap = new native.NativeCapture({ dir, id: 'bad-tee', analyze: { top: 5, paths: 1 } })
  cap.push('{"snapshot":{"meta":{},"node_count":x')
  const out = await cap.finish()
  assert.match(out.reportError, /^invalid heap snapshot at byte (\d+): /)
  assert.equal(out.reportErrorOffset, Number(/at byte (\d+)/.exec(out.reportError)[1]))
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a capture that received no snapshot is ERR_LEAKPROBE_CAPTURE and leaves no file', async () => {
  const native = require('../lib/native')
  const dir = tmpDir()
  const cap = new native.NativeCapture({ dir, id: 'empty-capture' })
  await assert.rejects(cap.finish(), (e) => {
    const err = require('../lib/errors').fromNative(e)
    assert.equal(err.code, 'ERR_LEAKPROBE_CAPTURE', err.message)
    assert.match(err.message, /no heap snapshot \(0 bytes\)/)
    return true
  })
  assert.deepEqual(fs.readdirSync(dir), [])
})

test('a second concurrent capture gets ERR_LEAKPROBE_BUSY; the slot frees afterwards', () => {
  const dir = tmpDir()
  const { second, first, third } = runChild({ dir, scenario: 'busy' })
  assert.equal(second.code, 'ERR_LEAKPROBE_BUSY')
  assert.match(second.message, /already running/)
  assert.ok(fs.existsSync(first.file))
  assert.ok(fs.existsSync(third.file))
  assert.equal(fs.readdirSync(dir).length, 2)
})

test('a write failure mid-stream leaves no partial file and the process keeps running', { skip: process.platform === 'win32' && 'uses ulimit -f' }, () => {
  const dir = tmpDir()
  // 256 KiB file size limit: far below any snapshot, so the write fails part-way (EFBIG).
  const { err, stillAlive } = runChild({ dir, scenario: 'fail-then-continue' }, { ulimitKb: 256 })
  assert.equal(err.code, 'ERR_LEAKPROBE_WRITE', JSON.stringify(err))
  assert.match(err.message, /no file was left behind/)
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing partial left')
  assert.ok(stillAlive.heapUsed)
})

test('a bad dir is ERR_LEAKPROBE_DIR with what to do', async () => {
  const base = tmpDir()
  await assert.rejects(leakprobe.capture({ dir: path.join(base, 'missing', 'child') }), (e) => {
    assert.equal(e.code, 'ERR_LEAKPROBE_DIR')
    assert.match(e.message, /create its parent first/)
    return true
  })
  const file = path.join(base, 'a-file')
  fs.writeFileSync(file, 'x')
  await assert.rejects(leakprobe.capture({ dir: file }), { code: 'ERR_LEAKPROBE_DIR', message: /not a directory/ })
  assert.deepEqual(fs.readdirSync(base), ['a-file'])
})

test('bad option types are ERR_LEAKPROBE_INVALID_ARG', async () => {
  for (const bad of [42, { dir: 3 }, { dir: '' }, { gzip: 'yes' }, { level: 0 }, { level: 10 }, { method: 'x' }]) {
    await assert.rejects(leakprobe.capture(bad), { code: 'ERR_LEAKPROBE_INVALID_ARG' }, JSON.stringify(bad))
  }
})

test('capture(): the memory V8 used to build the snapshot goes back to the system', () => {
  const dir = tmpDir()
  const script = `
    const fs = require('node:fs')
    const lp = require(${JSON.stringify(path.join(__dirname, '..'))})
    const rss = () => Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096
    const peak = () => Number(/VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
    const hoard = Array.from({ length: 300000 }, (_, i) => ({ i, s: 'k' + i }))
    const before = rss()
    lp.capture({ dir: ${JSON.stringify(dir)} }).then((c) => {
      process.stdout.write(JSON.stringify({ before, after: rss(), peak: peak(), released: c.releasedBytes, n: hoard.length }))
    })`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120000 })
  if (process.platform !== 'linux') return
  assert.equal(r.status, 0, r.stderr)
  const { before, after, peak, released } = JSON.parse(r.stdout)
  const rose = peak - before
  // the snapshot's structures: ~400 B for each of ~600,000 objects (glibc kept ~85% of it)
  assert.ok(rose > 200e6, `the capture raised RSS by ${rose}`)
  assert.ok(after - before < rose / 3, `RSS ${before} → peak ${peak} → ${after} after the capture`)
  assert.ok(released > rose / 3, `released ${released} of ${rose}`)
})
