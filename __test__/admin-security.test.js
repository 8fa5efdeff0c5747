'use strict'
// The admin route's guards, one attack at a time, against a real server on 127.0.0.1.
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const http = require('node:http')
const leakprobe = require('..')
const { inProcessRoutes } = require('./helpers/serve-route')

const { TOKEN } = require('./helpers/spawn-route')
const { tmp, serve, servers } = inProcessRoutes('leakprobe-admin-')

// raw requests: fetch would normalize the paths and headers the attacks need
function request(base, method, p, headers = {}) {
  const u = new URL(base)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { body += c })
      res.on('end', () => {
        let json = null
        try { json = JSON.parse(body) } catch { /* not JSON: json stays null */ }
        resolve({ status: res.statusCode, headers: res.headers, body, json })
      })
    })
    req.on('error', reject)
    req.end()
  })
}
const auth = { authorization: `Bearer ${TOKEN}` }
const snapshotsIn = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : [])

let base
before(async () => { base = await serve({}) })

test('no token: the route refuses to start', () => {
  const saved = process.env.LEAKPROBE_TOKEN
  const savedTmp = process.env.TMPDIR
  delete process.env.LEAKPROBE_TOKEN
  try {
    assert.throws(() => leakprobe.handler({}), { code: 'ERR_LEAKPROBE_INVALID_ARG', message: /token/ })
    assert.throws(() => leakprobe.express({ token: 'short' }), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
    assert.throws(() => leakprobe.handler({ token: TOKEN, allow: ['not-an-ip'] }), /not an IP address/)
    process.env.LEAKPROBE_TOKEN = TOKEN
    // (its default store goes under this test's temp dir)
    process.env.TMPDIR = tmp
    assert.equal(typeof leakprobe.handler({}), 'function', 'LEAKPROBE_TOKEN is enough')
  } finally {
    if (saved === undefined) delete process.env.LEAKPROBE_TOKEN
    else process.env.LEAKPROBE_TOKEN = saved
    if (savedTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = savedTmp
  }
})

test('missing, wrong, prefix, Basic and query-string tokens get 401 and write nothing', async () => {
  const attempts = [
    {},
    { authorization: 'Bearer wrong-token-wrong-token' },
    { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    { authorization: `Bearer ${TOKEN}x` },
    { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
    { authorization: `bearer${TOKEN}` },
  ]
  for (const h of attempts) {
    const r = await request(base, 'POST', '/snapshots', h)
    assert.equal(r.status, 401, JSON.stringify(h))
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="leakprobe"')
    assert.equal(r.json.error.code, 'ERR_LEAKPROBE_UNAUTHORIZED')
  }
  const q = await request(base, 'POST', `/snapshots?token=${TOKEN}&access_token=${TOKEN}`)
  assert.equal(q.status, 401)
  assert.deepEqual(snapshotsIn(path.join(tmp, '0')), [])
})

test('an address outside the allowlist gets 403, whatever Host or X-Forwarded-For say', async () => {
  const outside = await serve({ allow: ['10.9.9.9', '192.168.0.0/16'] })
  for (const h of [auth, { ...auth, host: 'localhost' }, { ...auth, 'x-forwarded-for': '10.9.9.9' }, { ...auth, host: 'localhost', 'x-forwarded-for': '192.168.1.1, 10.9.9.9' }]) {
    const r = await request(outside, 'POST', '/snapshots', h)
    assert.equal(r.status, 403, JSON.stringify(h))
    assert.equal(r.json.error.code, 'ERR_LEAKPROBE_FORBIDDEN')
  }
  assert.deepEqual(snapshotsIn(path.join(tmp, '1')), [])
  // only with trustProxy does the proxy's X-Forwarded-For count (its last hop)
  const proxied = await serve({ allow: ['10.9.9.9'], trustProxy: ['127.0.0.1'] })
  assert.equal((await request(proxied, 'GET', '/stats', { ...auth, 'x-forwarded-for': '10.9.9.9' })).status, 200)
  assert.equal((await request(proxied, 'GET', '/stats', { ...auth, 'x-forwarded-for': '10.9.9.9, 6.6.6.6' })).status, 403)
  assert.equal((await request(proxied, 'GET', '/stats', auth)).status, 403)
})

test('traversal and malformed ids never reach the file system', async () => {
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'do not serve')
  const dl = await serve({ allowDownload: true })
  const ids = ['..%2F..%2Fsecret.txt', '%2e%2e%2f%2e%2e%2fsecret.txt', '..', '%2e%2e', 'a%00b', 'x'.repeat(5000), '%E0%A4%A', '2026-11-24T19-10-00-123Z-1a2b3c4d%2F..%2F..']
  for (const id of ids) {
    for (const [m, p] of [['GET', `/snapshots/${id}`], ['GET', `/snapshots/${id}/report`], ['DELETE', `/snapshots/${id}`]]) {
      const r = await request(dl, m, p, auth)
      assert.ok(r.status === 404, `${m} ${p.slice(0, 60)} → ${r.status}`)
      assert.ok(!r.body.includes('do not serve'))
    }
  }
  const c = await request(dl, 'GET', '/compare?baseline=..%2F..%2Fsecret.txt&target=x', auth)
  assert.equal(c.status, 404)
  assert.ok(fs.existsSync(path.join(tmp, 'secret.txt')))
})

test('two captures at once: one 201, the other 409 with Retry-After; then the minimum interval', async () => {
  const spaced = await serve({ minIntervalMs: 60_000 })
  const [a, b] = await Promise.all([request(spaced, 'POST', '/snapshots', auth), request(spaced, 'POST', '/snapshots', auth)])
  const statuses = [a.status, b.status].sort()
  assert.deepEqual(statuses, [201, 409])
  const busy = a.status === 409 ? a : b
  assert.equal(busy.json.error.code, 'ERR_LEAKPROBE_BUSY')
  assert.ok(Number(busy.headers['retry-after']) > 0)
  const again = await request(spaced, 'POST', '/snapshots', auth)
  assert.equal(again.status, 429)
  assert.ok(Number(again.headers['retry-after']) > 0)
  assert.equal(snapshotsIn(path.join(tmp, String(servers.length - 1))).filter((f) => f.endsWith('.gz')).length, 1)
})

test('a series (one check: baseline, target, final) passes the minimum interval, three captures at most', async () => {
  const spaced = await serve({ minIntervalMs: 60_000 })
  const post = (q) => request(spaced, 'POST', `/snapshots${q}`, auth)
  assert.equal((await post('?series=check-0001')).status, 201)
  assert.equal((await post('?series=check-0001')).status, 201)
  assert.equal((await post('?series=check-0001')).status, 201)
  const fourth = await post('?series=check-0001')
  assert.equal(fourth.status, 429, 'a series holds three captures')
  assert.ok(Number(fourth.headers['retry-after']) > 0)
  assert.equal((await post('')).status, 429, 'a capture outside the series waits')
  assert.equal((await post('?series=check-0002')).status, 429, 'a new series waits for the interval too')
  const bad = await post('?series=../x')
  assert.equal(bad.status, 400)
  assert.equal(bad.json.error.code, 'ERR_LEAKPROBE_INVALID_ARG')
  assert.equal(snapshotsIn(path.join(tmp, String(servers.length - 1))).filter((f) => f.endsWith('.gz')).length, 3)
})

test('a snapshot that needs more memory than there is gets 503 and writes nothing', async () => {
  const greedy = await serve({ memoryFactor: 1e9 })
  const r = await request(greedy, 'POST', '/snapshots', auth)
  assert.equal(r.status, 503)
  assert.equal(r.json.error.code, 'ERR_LEAKPROBE_NO_MEMORY')
  assert.deepEqual(snapshotsIn(path.join(tmp, String(servers.length - 1))), [])
})

test('unknown endpoints are 404, wrong methods 405, all JSON', async () => {
  const r = await request(base, 'GET', '/nope', auth)
  assert.equal(r.status, 404)
  assert.equal(r.json.error.code, 'ERR_LEAKPROBE_NOT_FOUND')
  const m = await request(base, 'PUT', '/snapshots', auth)
  assert.equal(m.status, 405)
  assert.equal(m.headers.allow, 'GET, POST')
})
