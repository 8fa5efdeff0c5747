'use strict'
// A panic in Rust never takes the process down: in a synchronous export it is thrown as
// ERR_LEAKPROBE_INTERNAL (unguarded, unwinding out of an N-API callback aborts the process), on
// our threads it rejects the Promise. The panics are forced through a test-only hook
// (`__testPanic`, src/napi/test_panic.rs, armed only under LEAKPROBE_TEST_PANIC=1), in a child
// process, so a missing guard kills the child, not the test runner.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-panic-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

// Runs in the child: arms each panic point in turn, makes the call that meets it, and reports
// what was thrown or rejected; then checks the addon still works and prints one JSON line.
function childScript() {
  const native = require(`${ROOT}/lib/native`)
  const { fromNative } = require(`${ROOT}/lib/errors`)
  const zlib = require('node:zlib')
  const fs = require('node:fs')
  const path = require('node:path')
  const FIXTURE = process.env.FIXTURE
  const DIR = process.env.DIR
  const opts = { top: 3, paths: 1 }
  const raw = zlib.gunzipSync(fs.readFileSync(FIXTURE))
  const src = path.join(DIR, 'src.heapsnapshot')
  fs.writeFileSync(src, raw)
  const capture = (id, extra) => new native.NativeCapture({ dir: DIR, id, ...extra })
  // a capture's method: panics once, then the capture is ended normally (the slot freed)
  const method = (name, call) => async () => {
    const cap = capture(`m-${name}`)
    try {
      return await call(cap)
    } finally {
      cap.abort('done')
      await cap.finish().catch(() => {})
    }
  }
  const POINTS = {
    analyzeFile: () => native.analyzeFile(FIXTURE, opts),
    analyzeBuffer: () => native.analyzeBuffer(raw, opts),
    compareFiles: () => native.compareFiles([FIXTURE, FIXTURE], { thresholdBytes: 0, thresholdCount: 0, suspects: 3 }),
    compressFile: () => native.compressFile(src, DIR, 'c.heapsnapshot.gz', 1, false),
    cleanStale: () => native.cleanStale(DIR),
    releaseFreedMemory: () => native.releaseFreedMemory(),
    NativeCapture: () => capture('ctor'),
    'NativeCapture.attachFifo': method('attachFifo', (c) => c.attachFifo()),
    'NativeCapture.push': method('push', (c) => c.push(Buffer.from('{'))),
    'NativeCapture.finish': method('finish', (c) => c.finish()),
    'NativeCapture.abort': method('abort', (c) => c.abort('x')),
    TaskProgress: () => new native.TaskProgress(),
    'TaskProgress.state': () => new native.TaskProgress().state(),
    // on our threads: an analysis's, and a capture's same-pass analysis (its report error)
    task: () => native.analyzeBuffer(raw, opts),
    'NativeCapture.analyze': async () => {
      const cap = capture('tee', { analyze: opts })
      cap.push(raw)
      const out = await cap.finish()
      fs.rmSync(out.file)
      const e = new Error(out.reportError)
      e.code = 'reportError'
      throw e
    },
  }
  // every export the addon has, methods as `Class.method`: each must have a point above
  const exports = []
  for (const [k, v] of Object.entries(native)) {
    if (typeof v !== 'function' || k === '__testPanic') continue
    exports.push(k)
    if (/^[A-Z]/.test(k)) for (const m of Object.getOwnPropertyNames(v.prototype)) if (m !== 'constructor') exports.push(`${k}.${m}`)
  }
  ;(async () => {
    const results = {}
    for (const [point, call] of Object.entries(POINTS)) {
      assert(native.__testPanic(point) === true, 'the hook arms under LEAKPROBE_TEST_PANIC=1')
      try {
        await call()
        results[point] = { ok: true }
      } catch (e) {
        results[point] = { code: e.code, message: e.message, wrapped: fromNative(e).code }
      }
      native.__testPanic(null)
    }
    // the addon works on: a capture (the slot is free), an analysis
    const cap = capture('after')
    cap.push(raw)
    const out = await cap.finish()
    const report = JSON.parse(await native.analyzeFile(out.file, opts))
    process.stdout.write(JSON.stringify({ results, exports, points: Object.keys(POINTS), nodes: report.snapshot.nodes }))
  })()
  function assert(ok, what) {
    if (!ok) throw new Error(what)
  }
}

function runChild(env) {
  const dir = fs.mkdtempSync(path.join(tmp, 'c-'))
  const script = `const ROOT = ${JSON.stringify(ROOT)};(${childScript.toString()})()`
  return spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 120000,
    env: { ...process.env, FIXTURE, DIR: dir, ...env },
  })
}

test('a panic in any export or on our threads is ERR_LEAKPROBE_INTERNAL, and the process lives on', () => {
  const r = runChild({ LEAKPROBE_TEST_PANIC: '1' })
  assert.equal(r.signal, null, `the child was killed (${r.signal}): ${r.stderr}`)
  assert.equal(r.status, 0, r.stderr)
  const { results, exports, points, nodes } = JSON.parse(r.stdout)
  const hooks = ['task', 'NativeCapture.analyze']
  assert.deepEqual([...exports].sort(), points.filter((p) => !hooks.includes(p)).sort(), 'every export has its panic point')
  const internal = /^internal error in leakprobe \(please report it\): test panic in (\S+) \(LEAKPROBE_TEST_PANIC\)$/
  for (const [point, got] of Object.entries(results)) {
    if (point === 'NativeCapture.analyze') {
      // the capture succeeded; its analysis reports the panic as its error
      assert.equal(got.code, 'reportError', point)
    } else {
      assert.equal(got.code, 'ERR_LEAKPROBE_INTERNAL', `${point}: ${JSON.stringify(got)}`)
      assert.equal(got.wrapped, 'ERR_LEAKPROBE_INTERNAL', point)
    }
    assert.equal(internal.exec(got.message)?.[1], point, `${point}: ${got.message}`)
  }
  assert.ok(nodes > 0)
})

test('the panic hook arms nothing without LEAKPROBE_TEST_PANIC=1', () => {
  const script = `
    const native = require(${JSON.stringify(path.join(ROOT, 'lib', 'native'))})
    const armed = native.__testPanic('TaskProgress')
    new native.TaskProgress().state()
    process.stdout.write(String(armed))`
  const env = { ...process.env }
  delete env.LEAKPROBE_TEST_PANIC
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'false')
})
