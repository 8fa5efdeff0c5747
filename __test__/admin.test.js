'use strict'
// The admin route doing its job, mounted in express 5 and inside a plain node:http server.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const zlib = require('node:zlib')
const express = require('express')
const leakprobe = require('..')

const TOKEN = 'tok-0123456789abcdef-secret'
const H = { authorization: `Bearer ${TOKEN}` }
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-route-'))
const servers = []
after(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) })))
  fs.rmSync(tmp, { recursive: true, force: true })
})

async function listen(server) {
  servers.push(server)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${server.address().port}`
}

test('express: capture (analyzed), list, report, compare, stats, download, delete, retention', async () => {
  const dir = path.join(tmp, 'express')
  const app = express()
  app.get('/', (req, res) => res.send('app'))
  app.use('/_leakprobe', leakprobe.express({ token: TOKEN, dir, minIntervalMs: 0, keep: 2, allowDownload: true }))
  const base = `${await listen(http.createServer(app))}/_leakprobe`
  assert.equal(await (await fetch(base.replace('/_leakprobe', '/'))).text(), 'app', 'the app still answers')

  const first = await fetch(`${base}/snapshots?analyze=1`, { method: 'POST', headers: H })
  assert.equal(first.status, 201)
  const a = await first.json()
  assert.match(a.id, /^\d{4}-.*-[0-9a-f]{8}$/)
  assert.ok(a.bytes > a.compressedBytes && a.compressedBytes > 0 && a.durationMs > 0)
  assert.equal(a.file, undefined, 'no server path in answers')
  assert.equal(a.report.format, 'leakprobe-report/1')
  assert.equal(fs.statSync(path.join(dir, `${a.id}.heapsnapshot.gz`)).mode & 0o777, 0o600)

  const b = await (await fetch(`${base}/snapshots`, { method: 'POST', headers: H })).json()
  const list = await (await fetch(`${base}/snapshots`, { headers: H })).json()
  assert.deepEqual(list.snapshots.map((s) => s.id), [b.id, a.id])

  const report = await fetch(`${base}/snapshots/${b.id}/report`, { headers: H })
  assert.equal(report.status, 200)
  assert.equal((await report.json()).format, 'leakprobe-report/1')
  const page = await fetch(`${base}/snapshots/${b.id}/report`, { headers: { ...H, accept: 'text/html,application/xhtml+xml' } })
  assert.match(page.headers.get('content-type'), /^text\/html/)
  assert.match(page.headers.get('content-security-policy'), /default-src 'none'/)
  assert.match(await page.text(), /id="classes"/)
  const cmp = await (await fetch(`${base}/compare?baseline=${a.id}&target=${b.id}`, { headers: H })).json()
  assert.equal(cmp.format, 'leakprobe-compare/1')
  const stats = await (await fetch(`${base}/stats`, { headers: H })).json()
  assert.ok(stats.heap.used > 0 && stats.snapshotRoom.need > stats.heap.used)

  const dl = await fetch(`${base}/snapshots/${a.id}`, { headers: H })
  assert.equal(dl.status, 200)
  const json = zlib.gunzipSync(Buffer.from(await dl.arrayBuffer())).toString('utf8', 0, 20)
  assert.match(json, /^\{"snapshot":/)

  // keep: 2 → the oldest goes when a third arrives
  const c = await (await fetch(`${base}/snapshots`, { method: 'POST', headers: H })).json()
  const ids = (await (await fetch(`${base}/snapshots`, { headers: H })).json()).snapshots.map((s) => s.id)
  assert.deepEqual(ids, [c.id, b.id])
  assert.ok(!fs.readdirSync(dir).some((f) => f.startsWith(a.id)), 'snapshot and report of the oldest removed')

  const del = await fetch(`${base}/snapshots/${c.id}`, { method: 'DELETE', headers: H })
  assert.equal(del.status, 204)
  assert.equal((await fetch(`${base}/snapshots/${c.id}/report`, { headers: H })).status, 404)
  const home = await fetch(`${base}/`, { headers: H })
  assert.match(home.headers.get('content-type'), /text\/html/)
  assert.match(await home.text(), new RegExp(b.id))
})

test('node:http: mounted under a prefix inside an existing server; download off by default', async () => {
  const dir = path.join(tmp, 'http')
  const route = leakprobe.handler({ token: TOKEN, dir, prefix: '/_leakprobe', minIntervalMs: 0 })
  const base = await listen(http.createServer((req, res) => route(req, res, () => res.end('app'))))
  assert.equal(await (await fetch(`${base}/other`)).text(), 'app')
  assert.equal((await fetch(`${base}/_leakprobe/snapshots`)).status, 401)
  const snap = await (await fetch(`${base}/_leakprobe/snapshots`, { method: 'POST', headers: H })).json()
  const dl = await fetch(`${base}/_leakprobe/snapshots/${snap.id}`, { headers: H })
  assert.equal(dl.status, 403)
  assert.equal((await dl.json()).error.code, 'ERR_LEAKPROBE_DOWNLOAD_OFF')
})

test('redact: string contents never reach the stored snapshot; names, sizes and the analysis stay', async () => {
  const dir = path.join(tmp, 'redact')
  const secrets = new Map()
  class CreditCard { constructor(n) { this.number = n } }
  for (let i = 0; i < 50; i++) secrets.set(`user${i}`, new CreditCard(`4111-1111-1111-${String(1000 + i)}-SECRET`))
  const route = leakprobe.handler({ token: TOKEN, dir, minIntervalMs: 0, redact: true, allowDownload: true })
  const base = await listen(http.createServer(route))
  const r = await fetch(`${base}/snapshots?analyze=1`, { method: 'POST', headers: H })
  assert.equal(r.status, 201)
  const snap = await r.json()
  assert.ok(snap.redactedStrings > 50, `${snap.redactedStrings} strings redacted`)
  const stored = zlib.gunzipSync(fs.readFileSync(path.join(dir, `${snap.id}.heapsnapshot.gz`))).toString('utf8')
  assert.equal(snap.bytes, Buffer.byteLength(stored))
  assert.ok(!stored.includes('-SECRET'), 'a secret value in the stored snapshot')
  assert.ok(stored.includes('"CreditCard"') && stored.includes('"number"'), 'class and property names stay')
  const row = snap.report.classes.find((c) => c.name === 'CreditCard')
  assert.equal(row.count, 50)
  assert.ok(!JSON.stringify(snap.report).includes('-SECRET'))
  assert.equal(secrets.size, 50)
})

test('express 4: the same route, mounted the same way', async () => {
  const express4 = require('express4')
  const app = express4()
  app.use('/_leakprobe', leakprobe.express({ token: TOKEN, dir: path.join(tmp, 'express4'), minIntervalMs: 0 }))
  app.get('/', (req, res) => res.send('app4'))
  const base = await listen(http.createServer(app))
  assert.equal(await (await fetch(`${base}/`)).text(), 'app4')
  assert.equal((await fetch(`${base}/_leakprobe/snapshots`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } })).status, 401)
  const r = await fetch(`${base}/_leakprobe/snapshots`, { method: 'POST', headers: H })
  assert.equal(r.status, 201)
  const { id } = await r.json()
  const list = await (await fetch(`${base}/_leakprobe/snapshots`, { headers: H })).json()
  assert.deepEqual(list.snapshots.map((s) => s.id), [id])
  assert.equal((await fetch(`${base}/_leakprobe/snapshots/..%2F..%2Fetc`, { headers: H })).status, 404)
})
