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

// node:util's parseArgs reads the flags: `--flag=value` works, and each refusal says which flag
test('flags: --flag=value, and usage errors that name the flag', () => {
  const fixture = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
  const r = run('analyze', '--top=3', fixture, '--paths', '1', '--json')
  assert.equal(r.status, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).top.length, 3)
  for (const [args, message] of [
    [['demo', '--nope'], /^leakprobe: unknown option --nope\n/],
    [['analyze', '-x'], /^leakprobe: unknown option -x\n/],
    [['analyze', '--json=yes', fixture], /^leakprobe: --json takes no value\n/],
    [['analyze', fixture, '--top'], /^leakprobe: --top needs a value\n/],
    [['check', '--url', 'http://127.0.0.1:9/', '--warmup', '--', 'load'], /^leakprobe: --warmup needs a value\n/],
    [['analyze', '--top', '-1', fixture], /^leakprobe: --top takes a positive whole number\n/],
    [['analyze', '--top=0', fixture], /^leakprobe: --top takes a positive whole number\n/],
    [['analyze', '--top', '2.5', fixture], /^leakprobe: --top takes a positive whole number\n/],
    [['analyze', fixture, 'other'], /^leakprobe: unexpected argument other\n/],
    [['compare', 'a', 'b', 'c', 'd'], /^leakprobe: unexpected argument d\n/],
    [['watch', '--url', 'http://127.0.0.1:9/', '--interval=0'], /^leakprobe: --interval takes a number of seconds > 0, such as 10 or 0.5\n/],
    [['watch', '--url', 'http://127.0.0.1:9/', '--duration', '2000001'], /^leakprobe: --duration takes a number of seconds > 0/],
    // before `--` a word is a stray argument; after it, the load command's own flags are its own
    [['check', '--url', 'http://127.0.0.1:9/', 'stray', '--', 'node', '-e', '0'], /^leakprobe: unexpected argument stray\n/],
    [['check', '--url', 'http://127.0.0.1:9/', '--start', 'app', '--', 'node', '--top', '-x'], /^leakprobe: check needs either --url/],
  ]) {
    const e = run(...args)
    assert.equal(e.status, 2, args.join(' '))
    assert.match(e.stderr, message, args.join(' '))
    assert.match(e.stderr, /\n\nusage: leakprobe <command>/, 'the usage follows')
    assert.equal(e.stdout, '')
  }
})

test('every command knows each of its flags', () => {
  // all of a command's flags, then a refusal that comes only after they are parsed
  for (const [args, message] of [
    [['analyze', '--json', '--html', 'x.html', '--top', '1', '--paths', '1', '--classes', '1'], /analyze needs one snapshot file/],
    [['compare', 'a', '--json', '--html', 'x.html', '--threshold', '1kb', '--suspects', '1', '--classes', '1'], /compare needs a baseline and a target/],
    // a value may start with a dash (a random token can)
    [['capture', '--token', '-t', '--out', 'd', '--no-download', '--json', '--html', 'x.html', '--timeout', '5'], /capture needs --url/],
    [['check', '--url', 'http://127.0.0.1:9/', '--start', 'app', '--port', '9', '--route', '/r', '--token', 't', '--rounds', '2', '--warmup', 'w',
      '--threshold', '1kb,2', '--json', '--html', 'x.html', '--out', 'd', '--keep-snapshots', '--start-timeout', '5', '--timeout', '5', '--', 'load'], /check needs either --url/],
    [['watch', '--token', 't', '--interval', '0.5', '--duration', '1', '--json', '--metrics'], /watch needs --url/],
    [['open', 'id', '--token', 't', '--out', 'x.html', '--no-browser', '--timeout', '5'], /open needs --url/],
    [['demo', '--keep', '--requests', '0'], /--requests takes a positive whole number/],
  ]) {
    const e = run(...args)
    assert.equal(e.status, 2, args.join(' '))
    assert.match(e.stderr, message, `${args.join(' ')}\n${e.stderr.split('\n')[0]}`)
  }
})

test('help and version exit 0', () => {
  assert.match(run('help').stdout, /usage: leakprobe/)
  assert.equal(run('--version').stdout.trim(), require('../package.json').version)
})
