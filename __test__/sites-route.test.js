'use strict'
// The admin route's GET /sites and the monitor's state in GET /stats: refused without a sampling
// monitor, and, in a child app that leaks under monitor({ sampling }), naming the leaking function.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const leakprobe = require('..')

const TOKEN = 'tok-0123456789abcdef-sites'
const H = { authorization: `Bearer ${TOKEN}` }
const APP = path.join(__dirname, 'fixtures', 'sampling-app.js')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-sites-route-'))
const servers = []
const children = []
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) })))
  fs.rmSync(tmp, { recursive: true, force: true })
})

async function listen(handler) {
  const server = http.createServer(handler)
  servers.push(server)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${server.address().port}`
}

// the fixture app in a child process; resolves its route's address once it listens
function startApp(mode) {
  const child = spawn(process.execPath, [APP, mode], { env: { ...process.env, LEAKPROBE_TOKEN: TOKEN, LEAKPROBE_DIR: path.join(tmp, mode) }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({ base: `http://127.0.0.1:${JSON.parse(String(d)).port}/_leakprobe`, child, stderr: () => stderr }))
    child.on('exit', (code) => reject(new Error(`the app exited with ${code}: ${stderr}`)))
  })
}

// the fixture's line where `text` is (1-based)
function lineOf(text) {
  const src = fs.readFileSync(APP, 'utf8')
  return src.slice(0, src.indexOf(text)).split('\n').length
}

test('GET /sites without a monitor, or with one that does not sample: 404 ERR_LEAKPROBE_NO_SAMPLING saying what to pass', async (t) => {
  const none = await listen(leakprobe.handler({ token: TOKEN, dir: path.join(tmp, 'none') }))
  const r = await fetch(`${none}/sites`, { headers: H })
  assert.equal(r.status, 404)
  assert.match(r.headers.get('content-type'), /application\/json/)
  const { error } = await r.json()
  assert.equal(error.code, 'ERR_LEAKPROBE_NO_SAMPLING')
  assert.match(error.message, /this route has no monitor: pass `monitor: leakprobe\.monitor\(\{ sampling: true \}\)` to the route's `monitor` option/)
  // a browser gets the same JSON error, not a page
  const page = await fetch(`${none}/sites`, { headers: { ...H, accept: 'text/html' } })
  assert.equal(page.status, 404)
  assert.equal((await page.json()).error.code, 'ERR_LEAKPROBE_NO_SAMPLING')
  const stats = await (await fetch(`${none}/stats`, { headers: H })).json()
  assert.deepEqual([stats.monitor, stats.sites, stats.leak, stats.growing], [null, null, null, false])

  const m = leakprobe.monitor({ intervalMs: 60_000 })
  t.after(() => m.stop())
  const plain = await listen(leakprobe.handler({ token: TOKEN, dir: path.join(tmp, 'plain'), monitor: m }))
  const p = await (await fetch(`${plain}/sites`, { headers: H })).json()
  assert.equal(p.error.code, 'ERR_LEAKPROBE_NO_SAMPLING')
  assert.match(p.error.message, /the route's monitor runs without it: pass `monitor: leakprobe\.monitor\(\{ sampling: true \}\)`/)
  const ps = await (await fetch(`${plain}/stats`, { headers: H })).json()
  assert.deepEqual(ps.monitor, { running: true, intervalMs: 60_000, sampling: false })
  assert.deepEqual([ps.sites, ps.leak, ps.growing], [null, null, false])
  // the page lists the endpoint
  assert.match(await (await fetch(`${plain}/`, { headers: H })).text(), /GET sites/)
})

test('GET /sites in a leaking app: the growing sites name the leaking function and line; /stats has sites and the leak', async (t) => {
  const app = await startApp('leak')
  t.after(() => app.child.kill('SIGTERM'))
  // the route's rules hold for the new endpoint: no token, no answer
  const denied = await fetch(`${app.base}/sites`)
  assert.equal(denied.status, 401)
  assert.equal((await denied.json()).error.code, 'ERR_LEAKPROBE_UNAUTHORIZED')
  assert.equal((await fetch(`${app.base}/sites`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401)
  assert.equal((await fetch(`${app.base}/sites`, { method: 'POST', headers: H })).status, 405)
  assert.equal((await fetch(`${app.base}/sites?limit=0`, { headers: H })).status, 400)

  // poll until the monitor names a growing site and reports the leak (bounded: 30 s)
  const until = Date.now() + 30_000
  let sites
  let stats
  for (;;) {
    sites = await (await fetch(`${app.base}/sites?limit=3`, { headers: H })).json()
    stats = await (await fetch(`${app.base}/stats`, { headers: H })).json()
    if (sites.growing.length && stats.leak) break
    assert.ok(Date.now() < until, `no growing site and leak in 30 s: ${JSON.stringify({ growing: sites.growing, leak: stats.leak })}\n${app.stderr()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  assert.equal(sites.running, true)
  assert.equal(sites.intervalBytes, 8192)
  assert.ok(sites.reads.length >= 3 && sites.reads.every((r) => r.pauseMs >= 0 && r.heapUsed > 0))
  assert.ok(sites.largest.length <= 3 && sites.growing.length <= 3)
  const top = sites.growing[0]
  assert.equal(top.fn, 'remember', JSON.stringify(sites.growing.map((s) => [s.fn, s.line])))
  assert.equal(top.url, APP)
  assert.equal(top.line, lineOf('function remember'), 'the line where the allocating function starts')
  assert.ok(top.growth.length >= 3 && top.growth[top.growth.length - 1] > top.growth[0], JSON.stringify(top.growth))
  assert.ok(!sites.growing.some((s) => s.fn === 'scratch'), 'churn is not named')

  // GET /stats: the same sites object, the monitor's state and its leak with the sites
  assert.equal(stats.sites.intervalBytes, 8192)
  assert.ok(stats.sites.growing.some((s) => s.fn === 'remember'))
  assert.deepEqual(stats.monitor, { running: true, intervalMs: 40, sampling: true })
  assert.equal(stats.growing, true)
  assert.ok(stats.leak.time > 0 && stats.leak.time <= Date.now())
  assert.equal(stats.leak.sites[0].fn, 'remember')
  assert.ok(stats.samples.length > 0)

  // a browser asking for text/html first gets the page
  const page = await fetch(`${app.base}/sites`, { headers: { ...H, accept: 'text/html,application/xhtml+xml,*/*' } })
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type'), /^text\/html/)
  assert.match(page.headers.get('content-security-policy'), /default-src 'none'/)
  const html = await page.text()
  assert.match(html, /Where the growing memory is allocated/)
  assert.match(html, /<code>remember<\/code>/)
  assert.match(html, /<svg class="spark"/)
})
