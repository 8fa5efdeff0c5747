'use strict'
// Gzip bombs (~1 MB files that inflate to 1 GiB) through analyze(), compare() and the CLI, each
// in a child process: refused with ERR_LEAKPROBE_SNAPSHOT at the byte where the bomb starts,
// early, with the child's peak RSS (VmHWM) within 256 MB of a child that read a tiny snapshot.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { SHAPES, writeBomb } = require('./helpers/bombs')

const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'leakprobe.js')
const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const MB = 1 << 20
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-bombs-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

// Runs `call` (an expression on `lp`, the package) in a child; its outcome and peak RSS in bytes.
function inChild(call) {
  const script = `
    const lp = require(${JSON.stringify(ROOT)})
    const hwm = () => Number(/VmHWM:\\s+(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
    Promise.resolve().then(() => ${call}).then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message, offset: e.offset }))
      .then((r) => process.stdout.write(JSON.stringify({ ...r, hwm: hwm() })))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

// The CLI in a child: exit status, stderr, and its peak RSS (a preloaded module prints VmHWM
// at exit).
function cliInChild(args) {
  const probe = path.join(tmp, 'hwm.js')
  fs.writeFileSync(probe, `process.on('exit', () => { process.stderr.write('\\nHWM ' + /VmHWM:\\s+(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1] + '\\n') })`)
  const r = spawnSync(process.execPath, ['-r', probe, BIN, ...args], { encoding: 'utf8', timeout: 60000 })
  return { status: r.status, stderr: r.stderr, hwm: Number(/HWM (\d+)/.exec(r.stderr)[1]) * 1024 }
}

// where each bomb starts, and what it is refused for
const before = (name) => Buffer.byteLength(SHAPES[name][0])
const WANT = {
  string: () => [before('string') - 1, /a string in "strings" is longer than 1048576 bytes: V8 cuts the names/],
  header: () => [12, /the value in "snapshot" is longer than 1048576 bytes: V8's header/],
  key: () => [1, /a string \(a top-level key\) is longer than 1024 bytes/],
  nesting: () => [before('nesting') + 1024, /arrays and objects in "trace_tree" \(from byte \d+\) nest more than 1024 deep/],
  nodeCount: () => [SHAPES.nodeCount[0].indexOf('"node_count":') + 13, /snapshot.node_count says 268435455 nodes, which take at least 3221225460 bytes/],
}

test('gzip bombs are refused early, at their offset, within 256 MB', { skip: process.platform !== 'linux' && 'reads /proc/self/status' }, () => {
  // the baseline: the same child reading a tiny snapshot
  const tiny = path.join(tmp, 'tiny.heapsnapshot')
  fs.writeFileSync(tiny, SHAPES.string[0].replace(/,"strings":\["$/, ',"strings":[""]}'))
  const base = inChild(`lp.analyze(${JSON.stringify(tiny)})`)
  assert.ok(base.ok, base.message)
  const cliBase = cliInChild(['analyze', tiny, '--json'])
  assert.equal(cliBase.status, 0, cliBase.stderr)
  for (const [name, want] of Object.entries(WANT)) {
    const file = writeBomb(tmp, name, 1)
    assert.ok(fs.statSync(file).size < 2 * MB)
    const [offset, message] = want()
    const runs = {
      analyze: inChild(`lp.analyze(${JSON.stringify(file)})`),
      compare: inChild(`lp.compare(${JSON.stringify(FIXTURE)}, ${JSON.stringify(file)})`),
    }
    for (const [how, r] of Object.entries(runs)) {
      assert.equal(r.code, 'ERR_LEAKPROBE_SNAPSHOT', `${name} ${how}: ${r.message}`)
      assert.equal(r.offset, offset, `${name} ${how}`)
      assert.match(r.message, new RegExp(`^invalid heap snapshot at byte ${offset}: `), `${name} ${how}`)
      assert.match(r.message, message, `${name} ${how}`)
      assert.ok(r.hwm <= base.hwm + 256 * MB, `${name} ${how}: peak ${(r.hwm / MB).toFixed(0)} MB, baseline ${(base.hwm / MB).toFixed(0)} MB`)
    }
    const cli = cliInChild(['analyze', file])
    assert.equal(cli.status, 2, cli.stderr)
    assert.match(cli.stderr, new RegExp(`ERR_LEAKPROBE_SNAPSHOT: invalid heap snapshot at byte ${offset}: `))
    assert.ok(cli.hwm <= cliBase.hwm + 256 * MB, `${name} CLI: peak ${(cli.hwm / MB).toFixed(0)} MB`)
    fs.rmSync(file)
  }
})
