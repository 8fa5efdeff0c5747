'use strict'
// `leakprobe watch --url`: against child apps with the route and a sampling monitor (one that
// leaks, one that only churns), and its errors. Each app stops adding after 250 ticks and exits
// after 60 s on its own; the tests stop them sooner.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const leakprobe = require('..')

const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'leakprobe.js')
const APP = path.join(__dirname, 'fixtures', 'sampling-app.js')
const TOKEN = 'test-token-0123456789abcdef-watch'
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-watch-'))
const children = []
const servers = []
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) })))
  fs.rmSync(tmp, { recursive: true, force: true })
})

const env = { ...process.env }
delete env.LEAKPROBE_TOKEN

function cli(args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }) })
  })
}

function startApp(mode, extraEnv = {}) {
  const child = spawn(process.execPath, [APP, mode], { env: { ...env, LEAKPROBE_TOKEN: TOKEN, LEAKPROBE_DIR: path.join(tmp, mode), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({
      url: `http://127.0.0.1:${JSON.parse(String(d)).port}/_leakprobe`,
      stop: () => new Promise((r) => { if (child.exitCode !== null) return r(); child.on('exit', r); child.kill('SIGTERM') }),
    }))
    child.on('exit', (code) => reject(new Error(`the app exited with ${code}: ${stderr}`)))
  })
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

const REMEMBER_LINE = (() => {
  const src = fs.readFileSync(APP, 'utf8')
  return src.slice(0, src.indexOf('function remember')).split('\n').length
})()

test('watch: exit 1 once the app\'s monitor reports the leak, naming the function, its file:line and its stack', async (t) => {
  // steady for 1.5 s, then leaking: the watch polls on until the monitor reports it
  const app = await startApp('leak', { LEAK_AFTER_MS: '1500' })
  t.after(app.stop)
  const r = await cli(['watch', '--url', app.url, '--token', TOKEN, '--interval', '0.3', '--duration', '40'])
  assert.equal(r.code, 1, r.stdout + r.stderr)
  // one line per poll first: time, floor, slope, state (sites once some grow)
  const polls = r.stdout.slice(0, r.stdout.indexOf('LEAK:')).trim().split('\n')
  assert.ok(polls.length >= 3, r.stdout)
  for (const l of polls) assert.match(l, /^\d\d:\d\d:\d\d {2}floor [\d.]+ [KMG]?B {2}[+-][\d.]+ [KMG]?B\/min {2}(rising|steady)/)
  assert.match(polls[0], /steady {2}no growing site$/)
  assert.match(r.stdout, new RegExp(`rising .*remember sampling-app\\.js:${REMEMBER_LINE} \\+[\\d.]+ [KM]?B`), 'the poll lines name the site as it grows')
  assert.match(r.stdout, /LEAK: the app's monitor reported a leak at \d\d:\d\d:\d\d \(\d+ s into this watch\)/)
  const verdict = r.stdout.slice(r.stdout.indexOf('LEAK:'))
  assert.match(verdict, new RegExp(`#1 remember {2}${APP.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${REMEMBER_LINE}:\\d+ {2}\\+[\\d.]+ [KM]?B`))
  assert.match(verdict, new RegExp(`^ {3}at remember \\(.*sampling-app\\.js:${REMEMBER_LINE}:\\d+\\)$`, 'm'))
  assert.doesNotMatch(verdict, /#\d scratch/, 'churn is not named')
  assert.match(r.stderr, /watching http:\/\/127\.0\.0\.1:\d+\/_leakprobe\/ every 0\.3 s for 40 s/)

  // --json: one object per line, polls then the leak with its sites and stacks (a fresh app: once
  // this one stops leaking, its monitor ends the episode a window later)
  const app2 = await startApp('leak', { LEAK_AFTER_MS: '500' })
  t.after(app2.stop)
  const j = await cli(['watch', '--url', app2.url, '--interval', '0.3', '--duration', '40', '--json'], { LEAKPROBE_TOKEN: TOKEN })
  assert.equal(j.code, 1, j.stdout + j.stderr)
  const events = j.stdout.trim().split('\n').map((l) => JSON.parse(l))
  assert.ok(events.slice(0, -1).every((e) => e.event === 'poll' && typeof e.growing === 'boolean' && Array.isArray(e.sites)))
  const leak = events[events.length - 1]
  assert.equal(leak.event, 'leak')
  assert.ok(Date.parse(leak.time) > 0)
  assert.equal(leak.sites[0].fn, 'remember')
  assert.equal(leak.sites[0].url, APP)
  assert.equal(leak.sites[0].line, REMEMBER_LINE)
  assert.match(leak.sites[0].stack[0], /^remember \(/)
})

test('watch: a steady app, --duration 2 --interval 0.5: a line per poll, exit 0', async (t) => {
  const app = await startApp('steady')
  t.after(app.stop)
  const started = Date.now()
  const r = await cli(['watch', '--url', app.url, '--token', TOKEN, '--duration', '2', '--interval', '0.5'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.ok(Date.now() - started >= 2000, 'ran for the duration')
  const polls = r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}floor /.test(l))
  assert.ok(polls.length >= 4 && polls.length <= 6, r.stdout)
  assert.ok(polls.every((l) => !/remember/.test(l)))
  assert.match(r.stdout, /no leak: the app's monitor reported none in 2 s \(\d+ polls\)/)
  assert.doesNotMatch(r.stdout, /LEAK/)
})

test('watch: bad URL, token or route exit 2 with a message on stderr', async () => {
  // a route without a monitor cannot report a leak
  const server = http.createServer(leakprobe.handler({ token: TOKEN, dir: path.join(tmp, 'plain') }))
  servers.push(server)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const plain = `http://127.0.0.1:${server.address().port}/`
  const cases = [
    [['watch', '--url', plain, '--token', 'wrong-token-wrong-token'], /401.*the token is wrong/],
    [['watch', '--url', plain], /pass --token or set LEAKPROBE_TOKEN/],
    [['watch', '--url', `http://127.0.0.1:${await freePort()}/_leakprobe`, '--token', TOKEN], /could not reach .*ECONNREFUSED/],
    [['watch', '--url', 'not a url', '--token', TOKEN], /--url must be the route's address/],
    [['watch', '--token', TOKEN], /watch needs --url/],
    [['watch', '--url', plain, '--token', TOKEN, '--interval', '0'], /--interval takes a number of seconds > 0/],
    [['watch', '--url', plain, '--token', TOKEN], /has no monitor, so nothing there can report a leak: .*monitor: leakprobe\.monitor\(\{ sampling: true \}\)/],
  ]
  for (const [args, message] of cases) {
    const r = await cli(args)
    assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`)
    assert.match(r.stderr, message, args.join(' '))
    assert.equal(r.stdout, '', args.join(' '))
  }
})

test('watch --metrics: the route\'s Prometheus text at each poll; the last one before the verdict has the leak', async (t) => {
  const { parse, value, find } = require('./helpers/prom-text')
  const blocks = (out) => out.split(/^(?=# leakprobe watch: )/m).filter((b) => b.startsWith('# leakprobe watch: '))
  const steady = await startApp('steady')
  t.after(steady.stop)
  const r = await cli(['watch', '--url', steady.url, '--token', TOKEN, '--duration', '1.2', '--interval', '0.5', '--metrics'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  const polls = blocks(r.stdout.slice(0, r.stdout.indexOf('\nno leak:')))
  assert.ok(polls.length >= 2 && polls.length <= 4, r.stdout)
  for (const b of polls) {
    assert.match(b, /^# leakprobe watch: http:\/\/127\.0\.0\.1:\d+\/_leakprobe\/metrics at \d{4}-\d\d-\d\dT/)
    const p = parse(b)
    assert.equal(value(p, 'leakprobe_leak'), 0)
    assert.ok(value(p, 'leakprobe_heap_limit_bytes') > 0)
    assert.equal(find(p, 'leakprobe_captures_total').length, 11)
  }
  assert.doesNotMatch(r.stdout, /^\d\d:\d\d:\d\d {2}floor /m, 'the text instead of the poll lines')
  assert.match(r.stdout, /no leak: the app's monitor reported none/)

  const leak = await startApp('leak')
  t.after(leak.stop)
  const l = await cli(['watch', '--url', leak.url, '--token', TOKEN, '--duration', '40', '--interval', '0.3', '--metrics'])
  assert.equal(l.code, 1, l.stdout + l.stderr)
  const last = blocks(l.stdout.slice(0, l.stdout.indexOf('\nLEAK:'))).pop()
  const p = parse(last)
  assert.equal(value(p, 'leakprobe_leak'), 1, last)
  assert.ok(value(p, 'leakprobe_leak_start_time_seconds') > 0)
  assert.ok(find(p, 'leakprobe_site_live_bytes', { function: 'remember' }).length === 1, last)
  assert.match(l.stdout, /LEAK: the app's monitor reported a leak/)

  // --json: the text in each poll's object
  const j = await cli(['watch', '--url', steady.url, '--token', TOKEN, '--duration', '0.6', '--interval', '0.5', '--metrics', '--json'])
  assert.equal(j.code, 0, j.stdout + j.stderr)
  const events = j.stdout.trim().split('\n').map((x) => JSON.parse(x))
  assert.ok(events.filter((e) => e.event === 'poll').every((e) => value(parse(e.metrics), 'leakprobe_leak') === 0))

  // a route from before GET /metrics: the error says so
  const old = http.createServer((req, res) => {
    if (req.url.startsWith('/stats')) return res.end(JSON.stringify({ monitor: { running: true, intervalMs: 1000, sampling: false }, samples: [], leak: null, growing: false }))
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ERR_LEAKPROBE_NOT_FOUND', message: 'no such endpoint' } }))
  })
  servers.push(old)
  await new Promise((res) => old.listen(0, '127.0.0.1', res))
  const o = await cli(['watch', '--url', `http://127.0.0.1:${old.address().port}`, '--token', TOKEN, '--metrics'])
  assert.equal(o.code, 2, o.stderr)
  assert.match(o.stderr, /this route has no GET \/metrics: it comes from an older leakprobe/)
})

test('watch: a leak reported before any site rose clear of the noise waits a few polls for one', async () => {
  // a route whose monitor reported the leak from the floor with no site yet; from the 3rd poll
  // (`siteFrom`) its sampler names one
  const site = { fn: 'remember', url: '/app/server.js', line: 13, column: 3, liveBytes: 3 << 20, growth: [1 << 20, 2 << 20, 3 << 20], stack: ['remember (/app/server.js:13:3)'] }
  const route = (siteFrom) => {
    let polls = 0
    const server = http.createServer((req, res) => {
      if (!req.url.startsWith('/stats')) return res.writeHead(404).end()
      polls++
      res.end(JSON.stringify({
        monitor: { running: true, intervalMs: 1000, sampling: true },
        samples: [{ postGcHeapUsed: 50 << 20, slope: 0 }],
        growing: true,
        leak: { time: Date.now() - 1000, sites: [] },
        sites: { growing: polls >= siteFrom ? [site] : [] },
      }))
    })
    servers.push(server)
    return new Promise((res) => server.listen(0, '127.0.0.1', () => res({ url: `http://127.0.0.1:${server.address().port}`, polls: () => polls })))
  }
  const named = await route(3)
  const r = await cli(['watch', '--url', named.url, '--token', TOKEN, '--interval', '0.05', '--json'])
  assert.equal(r.code, 1, r.stdout + r.stderr)
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
  assert.equal(events.filter((e) => e.event === 'poll').length, 3)
  const leak = events[events.length - 1]
  assert.equal(leak.event, 'leak')
  assert.equal(leak.sites[0].fn, 'remember')
  // none ever rises: the verdict after 5 more polls says so
  const unnamed = await route(Infinity)
  const u = await cli(['watch', '--url', unnamed.url, '--token', TOKEN, '--interval', '0.05'])
  assert.equal(u.code, 1, u.stdout + u.stderr)
  assert.equal(unnamed.polls(), 6)
  assert.match(u.stdout, /no single allocation site rose clear of the sampling noise yet/)
})

test('help lists watch', async () => {
  const r = await cli(['help'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /watch --url URL \[--token T\] \[--interval S\] \[--duration S\] \[--json\] \[--metrics\]/)
})
