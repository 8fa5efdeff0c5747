'use strict'
// Who may call the route: `allow`, `trustProxy` and X-Forwarded-For, the token's form (issue 21,
// items 5 and 6). Bad forms fail at setup, naming the entry; a bad forwarded address fails closed.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const leakprobe = require('..')
const { inProcessRoutes } = require('./helpers/serve-route')
const { request, TOKEN, auth } = require('./helpers/spawn-route')

const { tmp, serve } = inProcessRoutes('leakprobe-callers-')

// GET /stats from a given loopback source address (all of 127.0.0.0/8 is this host on Linux)
function statsFrom(base, localAddress, headers = {}) {
  const u = new URL(base)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: '/stats', localAddress, headers: { ...auth, ...headers }, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.on('error', reject)
    req.end()
  })
}

const setupFails = (opts, entry) => assert.throws(() => leakprobe.handler({ token: TOKEN, dir: tmp, ...opts }), (e) => {
  assert.equal(e.code, 'ERR_LEAKPROBE_INVALID_ARG', `${JSON.stringify(opts)}: ${e.code} ${e.message}`)
  if (entry !== undefined) assert.ok(e.message.includes(JSON.stringify(entry)), `the message names ${JSON.stringify(entry)}: ${e.message}`)
  return true
}, JSON.stringify(opts))

test('bad `allow` entries are ERR_LEAKPROBE_INVALID_ARG at setup, naming the entry', () => {
  for (const entry of ['10.0.0.0/', '10.0.0.0/ ', '10.0.0.1/8/32', ' 10.0.0.1', '10.0.0.1 ', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8.5',
    '::1/129', '[::1]', '[::1]/128', '127.0.0.1:80', 'fe80::1%eth0', 'localhost', '', '/8', '10.0.0.0/0x8']) {
    setupFails({ allow: [entry] }, entry)
    setupFails({ allow: ['127.0.0.1', entry] }, entry)
  }
  setupFails({ allow: [42] })
  setupFails({ allow: [null] })
  setupFails({ allow: [] })
  setupFails({ allow: { '127.0.0.1': true } })
  // every bad entry is named, not just the first
  assert.throws(() => leakprobe.handler({ token: TOKEN, dir: tmp, allow: ['10.0.0.0/', 'nope'] }), /"10\.0\.0\.0\/".*"nope"/)
})

test('bad `trustProxy` entries and tokens are ERR_LEAKPROBE_INVALID_ARG at setup', () => {
  setupFails({ trustProxy: ['not-an-ip'] }, 'not-an-ip')
  setupFails({ trustProxy: '10.0.0.1:8080' }, '10.0.0.1:8080')
  setupFails({ trustProxy: 1 })
  for (const token of ['tok with a space 0123456789', 'tøken-0123456789abcdef', 'tok\t0123456789abcdef', 'tok-0123456789abcdef\n']) {
    assert.throws(() => leakprobe.handler({ token, dir: tmp }), { code: 'ERR_LEAKPROBE_INVALID_ARG', message: /printable ASCII without spaces/ }, JSON.stringify(token))
  }
})

test('allow: a single string is one entry; blocks are exact, 127.0.0.5 is not 127.0.0.1', async () => {
  const one = await serve({ allow: '127.0.0.1' })
  assert.equal(await statsFrom(one, '127.0.0.1'), 200)
  assert.equal(await statsFrom(one, '127.0.0.5'), 403)
  const block = await serve({ allow: ['10.0.0.0/8', '127.0.0.0/30'] })
  assert.equal(await statsFrom(block, '127.0.0.2'), 200)
  assert.equal(await statsFrom(block, '127.0.0.5'), 403)
  const other = await serve({ allow: '10.0.0.0/8' })
  assert.equal(await statsFrom(other, '127.0.0.1'), 403)
  // IPv4-mapped IPv6 entries cover their IPv4 addresses
  const mapped = await serve({ allow: ['::ffff:127.0.0.0/104'] })
  assert.equal(await statsFrom(mapped, '127.0.0.9'), 200)
})

test('behind a trusted proxy, an X-Forwarded-For last hop that is not a bare address is refused (403)', async () => {
  // the proxy (127.0.0.1) is itself in the allowlist: falling back to it would let anyone in
  const proxied = await serve({ allow: ['127.0.0.0/8'], trustProxy: '127.0.0.1' })
  for (const xff of ['203.0.113.9:51234', '[2001:db8::1]:443', '[127.0.0.1]', '127.0.0.1:80', 'unknown', '', ' ', '127.0.0.9, ', '127.0.0.9,', 'fe80::1%eth0', '_hidden', '127.0.0.9 127.0.0.8']) {
    const r = await request(proxied, 'GET', '/stats', { ...auth, 'x-forwarded-for': xff })
    assert.equal(r.status, 403, `X-Forwarded-For: ${JSON.stringify(xff)} → ${r.status}`)
    assert.equal(r.json.error.code, 'ERR_LEAKPROBE_FORBIDDEN')
  }
  for (const xff of ['127.0.0.9', '203.0.113.9, 127.0.0.9', ' 127.0.0.9 ', '::ffff:127.0.0.9']) {
    assert.equal((await request(proxied, 'GET', '/stats', { ...auth, 'x-forwarded-for': xff })).status, 200, xff)
  }
  // no header: the proxy itself is the caller
  assert.equal((await request(proxied, 'GET', '/stats', auth)).status, 200)
  // an untrusted peer's header is ignored either way
  const direct = await serve({ allow: ['127.0.0.0/8'] })
  assert.equal((await request(direct, 'GET', '/stats', { ...auth, 'x-forwarded-for': 'unknown' })).status, 200)
})
