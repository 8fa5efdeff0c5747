'use strict'
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawnSync } = require('node:child_process')
const leakprobe = require('..')

const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const DEVTOOLS = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'small.devtools.json'), 'utf8'))
const BIN = path.join(__dirname, '..', 'bin', 'leakprobe.js')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-analyze-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

test('analyze(file) returns the leakprobe-report/1 with DevTools figures', async () => {
  const r = await leakprobe.analyze(FIXTURE, { top: 50, paths: 3 })
  assert.equal(r.format, 'leakprobe-report/1')
  assert.equal(r.snapshot.nodes, DEVTOOLS.snapshot.nodes)
  assert.equal(r.snapshot.totalSize, DEVTOOLS.snapshot.totalSize)
  assert.ok(r.snapshot.edges > r.snapshot.nodes)
  assert.ok(r.timings.parseMs > 0 && r.timings.analyzeMs > 0)
  assert.equal(r.top.length, 50)
  r.top.forEach((t, i) => {
    const d = DEVTOOLS.top[i]
    assert.deepEqual([t.id, t.selfSize, t.retainedSize, t.distance, t.type], [d.id, d.selfSize, d.retainedSize, d.distance, d.type], `top[${i}]`)
  })
  // paths run from the GC-root side to the node; each step names the edge it takes
  const list = r.top.find((t) => t.name === 'ListNode' && t.path.length)
  assert.ok(list, 'a ListNode with a path')
  assert.deepEqual(list.path.map((s) => [s.name, s.edge]), [['global', 'list'], ['ListNode', '']])
  assert.equal(list.path[0].edgeType, 'property')
  assert.deepEqual(r.top.slice(3).map((t) => t.path.length), new Array(47).fill(0), 'only `paths` entries get a path')
  const leaky = r.classes.find((c) => c.name === 'Leaky')
  const want = DEVTOOLS.classes.find((c) => c.name === 'Leaky')
  assert.deepEqual(leaky, { name: 'Leaky', count: want.count, selfSize: want.selfSize, retainedSize: want.retainedSize })
  for (let i = 1; i < r.classes.length; i++) assert.ok(r.classes[i - 1].retainedSize >= r.classes[i].retainedSize)
})

test('analyze() takes a Buffer (gzip or plain) and a capture() result alike', async () => {
  const gz = fs.readFileSync(FIXTURE)
  const a = await leakprobe.analyze(gz, { top: 5, classes: 3 })
  const b = await leakprobe.analyze(zlib.gunzipSync(gz), { top: 5, classes: 3 })
  const c = await leakprobe.analyze({ file: FIXTURE }, { top: 5, classes: 3 })
  for (const r of [b, c]) {
    assert.deepEqual(r.top, a.top)
    assert.deepEqual(r.classes, a.classes)
  }
  assert.equal(a.classes.length, 3)
})

test('capture({ analyze: true }) analyzes this heap in the same pass', async () => {
  const dir = path.join(tmp, 'cap')
  const r = await leakprobe.capture({ dir, analyze: true, top: 5 })
  assert.ok(fs.existsSync(r.file))
  assert.equal(r.report.format, 'leakprobe-report/1')
  assert.equal(r.report.snapshot.nodes, r.nodes)
  assert.equal(r.report.top.length, 5)
  const again = await leakprobe.analyze(r.file, { top: 5 })
  assert.deepEqual(again.top, r.report.top, 'same figures as reading the file back')
})

test('bad snapshots reject with ERR_LEAKPROBE_SNAPSHOT naming the byte offset', async () => {
  const raw = zlib.gunzipSync(fs.readFileSync(FIXTURE))
  const cases = [
    [Buffer.alloc(0), /empty/],
    [raw.subarray(0, 5000), /at byte \d+: .*(cut short|end of the input|expected)/],
    [Buffer.from('{"snapshot":{"meta":{}}}'), /header/],
    [Buffer.from(raw.toString('latin1').replace('"nodes":[', '"nodes":[x'), 'latin1'), /at byte \d+: expected a non-negative integer in "nodes"/],
    [fs.readFileSync(FIXTURE).subarray(0, 100000), /gzip stream ends early/],
    // the header's counts, a missing section, a name past the strings: each with its offset too
    [Buffer.from(raw.toString('latin1').replace(/"node_count":\d+/, '"node_count":4000000000'), 'latin1'), /at byte \d+: snapshot.node_count is 4000000000: leakprobe reads up to 2\^28 nodes/],
    [Buffer.from(raw.toString('latin1').replace('"strings":', '"strungs":'), 'latin1'), new RegExp(`at byte ${raw.length}: the snapshot has no "strings"`)],
    [Buffer.from(raw.toString('latin1').replace(/"strings":\[".*"\]\}$/s, '"strings":[""]}'), 'latin1'), /at byte \d+: node \d+ has name string \d+, past the 1 strings/],
  ]
  for (const [buf, re] of cases) {
    await assert.rejects(leakprobe.analyze(buf), (e) => {
      assert.ok(e instanceof leakprobe.LeakprobeError, e)
      assert.equal(e.code, 'ERR_LEAKPROBE_SNAPSHOT')
      assert.match(e.message, re)
      // the offset the message names is a property too
      const at = /at byte (\d+)/.exec(e.message)
      assert.equal(e.offset, at ? Number(at[1]) : undefined, e.message)
      return true
    })
  }
  await assert.rejects(leakprobe.analyze(raw.subarray(0, 5000)), (e) => e.offset > 0 && e.offset <= 5000)
  await assert.rejects(leakprobe.analyze(path.join(tmp, 'missing.heapsnapshot')), (e) => {
    assert.equal(e.code, 'ERR_LEAKPROBE_SNAPSHOT')
    assert.match(e.message, /no such file/)
    assert.ok(!('offset' in e), 'a file that cannot be opened has no offset')
    return true
  })
  await assert.rejects(leakprobe.analyze(42), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
  await assert.rejects(leakprobe.analyze(FIXTURE, { top: -1 }), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
})

test('random truncations and byte flips give errors or reports, never a crash', async () => {
  const raw = zlib.gunzipSync(fs.readFileSync(FIXTURE))
  let seed = 12345
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  let errors = 0
  for (let i = 0; i < 60; i++) {
    const buf = Buffer.from(raw)
    const cut = i % 2 ? buf.subarray(0, rnd(buf.length)) : buf
    if (!(i % 2)) for (let j = 0; j < 3; j++) buf[rnd(buf.length)] = rnd(256)
    await leakprobe.analyze(cut).then(() => {}, (e) => { assert.equal(e.code, 'ERR_LEAKPROBE_SNAPSHOT', e.message); errors++ })
  }
  assert.ok(errors >= 30)
})

test('analyze never blocks the event loop: timers keep firing while it runs', async () => {
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const raw = zlib.gunzipSync(fs.readFileSync(FIXTURE))
  await Promise.all([1, 2, 3].map(() => leakprobe.analyze(raw)))
  clearInterval(timer)
  assert.ok(ticks > 0)
})

test('leakprobe analyze FILE prints tables; --json the report; bad input exits 2', () => {
  const t = spawnSync(process.execPath, [BIN, 'analyze', FIXTURE, '--top', '5'], { encoding: 'utf8' })
  assert.equal(t.status, 0, t.stderr)
  assert.match(t.stdout, /67,339 nodes/)
  assert.match(t.stdout, /Biggest retainers/)
  assert.match(t.stdout, /global\.list → ListNode/)
  assert.match(t.stdout, /Classes by retained size/)
  const j = spawnSync(process.execPath, [BIN, 'analyze', FIXTURE, '--json', '--top', '3'], { encoding: 'utf8' })
  assert.equal(j.status, 0)
  assert.equal(JSON.parse(j.stdout).top.length, 3)
  const bad = path.join(tmp, 'bad.heapsnapshot')
  fs.writeFileSync(bad, '{"snapshot":')
  const b = spawnSync(process.execPath, [BIN, 'analyze', bad], { encoding: 'utf8' })
  assert.equal(b.status, 2)
  assert.match(b.stderr, /^leakprobe: ERR_LEAKPROBE_SNAPSHOT: invalid heap snapshot at byte \d+/m)
})

test('LEAKPROBE_SPILL: names on a temporary file during the dominator pass give the same report, and leave no file', () => {
  const run = (env) => {
    const r = spawnSync(process.execPath, [BIN, 'analyze', FIXTURE, '--json', '--top', '20'], { encoding: 'utf8', env: { ...process.env, ...env } })
    assert.equal(r.status, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    delete report.timings
    return report
  }
  const spill = fs.mkdtempSync(path.join(tmp, 'spill-'))
  const inMemory = run({ LEAKPROBE_SPILL: 'off' })
  assert.deepEqual(run({ LEAKPROBE_SPILL: spill, LEAKPROBE_SPILL_MIN_MB: '0' }), inMemory)
  assert.deepEqual(fs.readdirSync(spill), [], 'the spill file has no name')
  // a directory that cannot take the file: everything stays in memory
  assert.deepEqual(run({ LEAKPROBE_SPILL: path.join(spill, 'missing'), LEAKPROBE_SPILL_MIN_MB: '0' }), inMemory)
})

test('analyze() alone loads neither the capture nor the admin-route code', () => {
  // every entry of the package loads on first use: an app measured for leaks should not carry
  // node:http, node:crypto and the route code just to analyze a file
  const script = `
    const leakprobe = require(${JSON.stringify(path.join(__dirname, '..'))})
    leakprobe.analyze(${JSON.stringify(FIXTURE)}, { top: 1 }).then((r) => {
      const loaded = Object.keys(require.cache).map((f) => f.split(require('node:path').sep).slice(-2).join('/'))
      console.log(JSON.stringify({ top: r.top.length, loaded }))
    })`
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  assert.equal(out.status, 0, out.stderr)
  const { top, loaded } = JSON.parse(out.stdout)
  assert.equal(top, 1)
  assert.ok(loaded.includes('lib/analyze.js'), loaded.join(' '))
  for (const f of ['lib/capture.js', 'admin/handler.js', 'admin/express.js', 'lib/monitor.js', 'lib/check.js', 'lib/html-report.js']) {
    assert.ok(!loaded.includes(f), `${f} was loaded: ${loaded.join(' ')}`)
  }
  // and the entries are still plain enumerable functions
  const entries = require('..')
  for (const k of ['capture', 'analyze', 'compare', 'check', 'monitor', 'Monitor', 'handler', 'express', 'renderHtml', 'format']) {
    assert.equal(typeof entries[k], 'function', k)
  }
  assert.ok(Object.keys(entries).includes('analyze'))
})

test('the entries import as ESM names, and take assignment (stubs) like plain properties', () => {
  const root = path.join(__dirname, '..', 'index.js')
  const esm = path.join(tmp, 'esm.mjs')
  fs.writeFileSync(esm, `import { analyze, capture, compare, check, monitor, Monitor, handler, express, renderHtml, format, LeakprobeError } from ${JSON.stringify(root)}
const all = { analyze, capture, compare, check, monitor, Monitor, handler, express, renderHtml, format, LeakprobeError }
const r = await analyze(${JSON.stringify(FIXTURE)}, { top: 1 })
console.log(JSON.stringify({ types: Object.values(all).map((f) => typeof f), top: r.top.length }))
`)
  const out = spawnSync(process.execPath, [esm], { encoding: 'utf8' })
  assert.equal(out.status, 0, out.stderr)
  const { types, top } = JSON.parse(out.stdout)
  assert.deepEqual(types, Array(11).fill('function'))
  assert.equal(top, 1)
  // a stub set before the first read wins, in strict mode too (no getter-only property)
  const script = `'use strict'
    const lp = require(${JSON.stringify(root)})
    lp.capture = () => 'stub'
    console.log(lp.capture())`
  const stubbed = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  assert.equal(stubbed.status, 0, stubbed.stderr)
  assert.equal(stubbed.stdout.trim(), 'stub')
})
