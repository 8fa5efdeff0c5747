'use strict'
// Error bodies carry a code and a message of leakprobe's, never a server path or a raw Node error
// code; the full error goes to the route's onError (issue 21, item 4).
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const leakprobe = require('..')
const { request, TOKEN, auth } = require('./helpers/spawn-route')

const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-errors-'))
const servers = []
after(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) })))
  fs.rmSync(tmp, { recursive: true, force: true })
})

// a route whose failures are collected (onError) rather than printed
async function serve(dir, opts = {}) {
  const logged = []
  const server = http.createServer(leakprobe.handler({ token: TOKEN, dir, minIntervalMs: 0, onError: (err, where) => logged.push({ err, where }), ...opts }))
  servers.push(server)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return { base: `http://127.0.0.1:${server.address().port}`, logged }
}

let n = 0
const newId = () => `2026-02-02T00-00-00-000Z-${(++n).toString(16).padStart(8, '0')}`

function assertClean(r, what) {
  assert.ok(r.json && r.json.error && /^ERR_LEAKPROBE_[A-Z_]+$/.test(r.json.error.code), `${what}: ${r.body}`)
  const body = r.body
  assert.ok(!body.includes(tmp) && !/(^|[\s'"(=:])\/[A-Za-z.]/.test(body), `${what}: a server path in ${body}`)
  assert.ok(!/\bE[A-Z]{3,}\b/.test(body) && !/os error \d+/.test(body), `${what}: a raw error code in ${body}`)
}

test('a store directory whose parent went away: 500 ERR_LEAKPROBE_DIR without its path', async () => {
  const parent = fs.mkdtempSync(path.join(tmp, 'parent-'))
  const { base, logged } = await serve(path.join(parent, 'store'))
  fs.rmSync(parent, { recursive: true })
  const r = await request(base, 'POST', '/snapshots', auth)
  assert.equal(r.status, 500)
  assert.equal(r.json.error.code, 'ERR_LEAKPROBE_DIR')
  assertClean(r, 'missing parent')
  // the server's log has the whole story
  assert.ok(logged.some((l) => l.err.message.includes(parent)), 'onError gets the full error')
  assert.deepEqual(logged[0].where, { method: 'POST', path: '/snapshots' })
})

test('a store directory that became a file: 500 ERR_LEAKPROBE_DIR without its path', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'file-'))
  const { base } = await serve(dir)
  fs.rmSync(dir, { recursive: true })
  fs.writeFileSync(dir, 'not a directory')
  for (const [m, p] of [['POST', '/snapshots'], ['GET', '/snapshots'], ['GET', `/snapshots/${newId()}/report`]]) {
    const r = await request(base, m, p, auth)
    assert.equal(r.status, 500, `${m} ${p}: ${r.body}`)
    assert.equal(r.json.error.code, 'ERR_LEAKPROBE_DIR')
    assertClean(r, `${m} ${p} with the dir a file`)
  }
})

test('reports and comparisons of broken snapshots: 422 ERR_LEAKPROBE_SNAPSHOT without paths', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'broken-'))
  const { base, logged } = await serve(dir)
  const good = fs.readFileSync(FIXTURE)
  const plant = (bytes) => {
    const id = newId()
    fs.writeFileSync(path.join(dir, `${id}.heapsnapshot.gz`), bytes, { mode: 0o600 })
    return id
  }
  const truncated = plant(good.subarray(0, Math.floor(good.length / 2)))
  const badGzip = plant(Buffer.concat([good.subarray(0, 10), Buffer.alloc(4000, 0x5a)]))
  const notJson = plant(require('node:zlib').gzipSync('hello, not a snapshot'))
  for (const [what, p] of [
    ['report of a truncated snapshot', `/snapshots/${truncated}/report`],
    ['report of a broken gzip', `/snapshots/${badGzip}/report`],
    ['report of a gzip that is not a snapshot', `/snapshots/${notJson}/report`],
    ['compare of corrupt snapshots', `/compare?baseline=${truncated}&target=${badGzip}`],
    ['compare with a corrupt final', `/compare?baseline=${plant(good)}&target=${plant(good)}&final=${notJson}`],
  ]) {
    const r = await request(base, 'GET', p, auth)
    assert.equal(r.status, 422, `${what}: ${r.body}`)
    assert.equal(r.json.error.code, 'ERR_LEAKPROBE_SNAPSHOT')
    assertClean(r, what)
  }
  assert.ok(logged.length >= 5 && logged.every((l) => l.err.code === 'ERR_LEAKPROBE_SNAPSHOT'))
})

test('request mistakes keep their own messages; onError is checked, and one that throws is harmless', async () => {
  assert.throws(() => leakprobe.handler({ token: TOKEN, dir: tmp, onError: 'log' }), { code: 'ERR_LEAKPROBE_INVALID_ARG', message: /onError/ })
  const dir = fs.mkdtempSync(path.join(tmp, 'hook-'))
  const { base } = await serve(dir, { onError: () => { throw new Error('a broken logger') } })
  const t = await request(base, 'GET', `/compare?baseline=${newId()}&target=${newId()}&threshold=lots`, auth)
  assert.ok([400, 404].includes(t.status), t.body)
  const l = await request(base, 'GET', '/sites?limit=0', auth)
  assert.equal(l.status, 400)
  assert.match(l.json.error.message, /limit must be a whole number/)
  const id = newId()
  fs.writeFileSync(path.join(dir, `${id}.heapsnapshot.gz`), 'x', { mode: 0o600 })
  const r = await request(base, 'GET', `/snapshots/${id}/report`, auth)
  assert.equal(r.status, 422)
  assertClean(r, 'with a throwing onError')
})
