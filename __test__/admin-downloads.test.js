'use strict'
// Staying up (issue 21, item 7): downloads that fail, are dropped or race a DELETE, and malformed
// paths, never crash the server, leak a file descriptor or answer 500.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const crypto = require('node:crypto')
const leakprobe = require('..')
const { sendFile } = require('../lib/admin/download')
const { startRoute, request, waitFor, sleep, TOKEN, auth } = require('./helpers/spawn-route')

const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-downloads-'))
const children = []
const servers = []
after(async () => {
  await Promise.all(children.map((c) => c.stop()))
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) })))
  fs.rmSync(tmp, { recursive: true, force: true })
})
async function route(args) {
  const c = await startRoute(args)
  children.push(c)
  return c
}
async function listen(handler) {
  const server = http.createServer(handler)
  servers.push(server)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${server.address().port}`
}

let n = 0
const newId = () => `2026-01-01T00-00-00-000Z-${(++n).toString(16).padStart(8, '0')}`
// no absolute server path, no raw Node error code, in a body a token holder reads
function assertClean(r, what) {
  const body = r.body || ''
  assert.ok(!body.includes(tmp) && !/(^|[\s'"(])\/(tmp|proc|etc|home|root|var|work|usr)\//.test(body), `${what}: a server path in ${body}`)
  assert.ok(!/\bE[A-Z]{3,}\b/.test(body) && !/os error \d+/.test(body), `${what}: a raw error code in ${body}`)
}

test('a read that fails after the file is open does not take the server down', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'dir-'))
  const c = await route({ route: { dir, allowDownload: true } })
  // a directory under a snapshot's name: open() succeeds, read() fails (EISDIR)
  const id = newId()
  fs.mkdirSync(path.join(dir, `${id}.heapsnapshot.gz`))
  const r = await request(c.base, 'GET', `/snapshots/${id}`, auth)
  assert.ok(r.status === 404 || r.error, `status ${r.status}`)
  assertClean(r, 'download of a directory')
  await sleep(50)
  assert.equal(c.child.exitCode, null, `the server died: ${c.stderr()}`)
  assert.equal((await request(c.base, 'GET', '/stats', auth)).status, 200)

  // the stream itself: an error after the headers ends the response, nothing is thrown
  const uncaught = []
  const onUncaught = (e) => uncaught.push(e)
  process.on('uncaughtException', onUncaught)
  try {
    const errors = []
    const base = await listen((req, res) => sendFile(res, { fd: fs.openSync(dir, 'r'), size: 1000 }, { 'content-type': 'application/gzip' }, (e) => errors.push(e)))
    const d = await request(base, 'GET', '/')
    // (the headers go out with the first bytes: here the connection just closes)
    assert.ok(d.error || !d.complete, `the client sees a cut-off response: ${d.status}`)
    await waitFor(() => errors.length, { what: 'the error to be reported' })
    assert.equal(errors[0].code, 'EISDIR')
    // a file shorter than announced: cut off too, never a hang
    const short = path.join(tmp, 'short')
    fs.writeFileSync(short, 'abc')
    const base2 = await listen((req, res) => sendFile(res, { fd: fs.openSync(short, 'r'), size: 10 }, {}, (e) => errors.push(e)))
    const s = await request(base2, 'GET', '/')
    assert.ok(s.error || !s.complete)
    await waitFor(() => errors.length === 2, { what: 'the short read to be reported' })
    assert.equal(errors[1].code, 'ERR_LEAKPROBE_READ')
  } finally {
    process.off('uncaughtException', onUncaught)
  }
  assert.deepEqual(uncaught, [])
})

// the server child's open descriptors on `file` (also once it is deleted)
function fdsOn(pid, file) {
  let count = 0
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target
    try { target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`) } catch { continue }
    if (target === file || target === `${file} (deleted)`) count++
  }
  return count
}

test('downloads dropped by the client close their file descriptors', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'fds-'))
  const c = await route({ route: { dir, allowDownload: true } })
  const id = newId()
  const file = path.join(dir, `${id}.heapsnapshot.gz`)
  // big enough that no download finishes before the client hangs up (sparse: no disk used)
  fs.writeFileSync(file, '')
  fs.chmodSync(file, 0o600)
  fs.truncateSync(file, 256 << 20)
  const u = new URL(c.base)
  const DROPS = 30
  await Promise.all(Array.from({ length: DROPS }, () => new Promise((resolve) => {
    const req = http.get({ host: u.hostname, port: u.port, path: `/snapshots/${id}`, headers: auth, agent: false }, (res) => {
      assert.equal(res.statusCode, 200)
      res.once('data', () => { req.destroy(); resolve() })
    })
    req.on('error', () => resolve())
  })))
  await waitFor(() => fdsOn(c.pid, file) === 0, { ms: 5000, everyMs: 50, what: 'the descriptors to close' }).catch(() => {})
  assert.equal(fdsOn(c.pid, file), 0, `descriptors still open on the snapshot after ${DROPS} dropped downloads`)
  assert.equal((await request(c.base, 'DELETE', `/snapshots/${id}`, auth)).status, 204)
  assert.equal(fdsOn(c.pid, file), 0, 'the deleted file is still held open')
  assert.equal((await request(c.base, 'GET', '/stats', auth)).status, 200)
})

test('a download racing a DELETE: the whole file or a 404, never a 500 with a path', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'race-'))
  const base = await listen(leakprobe.handler({ token: TOKEN, dir, allowDownload: true, minIntervalMs: 0 }))
  const size = fs.statSync(FIXTURE).size
  // libuv's pool busy (this process is the server): an open() queued on it waits, a DELETE does not
  const busy = () => Promise.all(Array.from({ length: 8 }, () => new Promise((r) => crypto.pbkdf2('x', 'y', 400_000, 64, 'sha512', r))))
  for (let round = 0; round < 3; round++) {
    const id = newId()
    fs.copyFileSync(FIXTURE, path.join(dir, `${id}.heapsnapshot.gz`))
    const pool = busy()
    const get = request(base, 'GET', `/snapshots/${id}`, auth)
    await sleep(30)
    const del = await request(base, 'DELETE', `/snapshots/${id}`, auth)
    const r = await get
    await pool
    assert.equal(del.status, 204)
    assert.ok(r.status === 200 || r.status === 404, `round ${round}: ${r.status} ${r.body}`)
    if (r.status === 200) {
      assert.equal(r.bytes, size, 'the whole file')
    } else {
      assert.equal(r.json.error.code, 'ERR_LEAKPROBE_NOT_FOUND')
      assertClean(r, 'download racing a DELETE')
    }
  }
})

test('malformed paths are 400 or 404, never 500', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'paths-'))
  const handle = leakprobe.handler({ token: TOKEN, dir, prefix: '/_leakprobe', minIntervalMs: 0 })
  const base = await listen((req, res) => handle(req, res, () => { res.statusCode = 404; res.end('app') }))
  for (const p of ['//[', '//', '/[', '//snapshots', '/snapshots/%', '/snapshots/%E0%A4%A/report', '/snapshots/..', '/snapshots//report',
    '/compare?baseline=%E0&target=%', '/compare?baseline=[&target=]', '/sites?limit=%', '/%00', '/snapshots/\u00e9']) {
    const r = await request(base, 'GET', `/_leakprobe${encodeURI(p) === p ? p : p.replace(/[^\x21-\x7e]/g, encodeURIComponent)}`, auth)
    assert.ok([400, 404].includes(r.status), `GET /_leakprobe${p} → ${r.status} ${r.body}`)
    assert.ok(r.json && r.json.error, `GET /_leakprobe${p}: a JSON error`)
  }
  // a query that does not parse is just text: the endpoint answers
  for (const p of ['/stats?%', '/stats?%%%&&==', '/snapshots?analyze=%E0']) assert.equal((await request(base, 'GET', `/_leakprobe${p}`, auth)).status, 200, p)
})
