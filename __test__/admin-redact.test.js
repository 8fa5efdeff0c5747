'use strict'
// redact: true — the unredacted snapshot never has a name the store lists, not for a moment, not
// after a SIGKILL (issue 21, item 1).
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { startRoute, request, waitFor, auth } = require('./helpers/spawn-route')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-redact-'))
const children = []
after(async () => {
  await Promise.all(children.map((c) => c.stop()))
  fs.rmSync(tmp, { recursive: true, force: true })
})
async function route(args) {
  const c = await startRoute(args)
  children.push(c)
  return c
}

const SECRET = 'sk_live_leakprobe_redaction_probe'
// what the store lists: <id>.heapsnapshot[.gz]
const LISTABLE = /^\d{4}-\d{2}-\d{2}T[\d-]+Z-[0-9a-f]{8}\.heapsnapshot(\.gz)?$/
const listable = (dir) => fs.readdirSync(dir).filter((f) => LISTABLE.test(f))
const holdsSecret = (buf) => zlib.gunzipSync(buf).includes(SECRET)

test('a redacted capture: no listable or downloadable file ever holds the unredacted snapshot', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'poll-'))
  const c = await route({ route: { dir, redact: true, allowDownload: true }, objects: 150_000, secret: SECRET })
  let done = false
  const seen = { files: 0, listed: 0, leaks: [] }
  // the directory, as fast as it goes
  const pollDir = (async () => {
    while (!done) {
      for (const f of listable(dir)) {
        let buf
        try { buf = fs.readFileSync(path.join(dir, f)) } catch { continue }
        seen.files++
        if (holdsSecret(buf)) seen.leaks.push(`file ${f}`)
      }
      await new Promise((r) => setImmediate(r))
    }
  })()
  // the route: its listing, and a download of whatever it lists
  const pollRoute = (async () => {
    while (!done) {
      const l = await request(c.base, 'GET', '/snapshots', auth)
      for (const s of (l.json && l.json.snapshots) || []) {
        seen.listed++
        const d = await request(c.base, 'GET', `/snapshots/${s.id}`, auth)
        if (d.status === 200 && holdsSecret(d.buf)) seen.leaks.push(`download ${s.id}`)
      }
    }
  })()
  const r = await request(c.base, 'POST', '/snapshots', auth)
  done = true
  await Promise.all([pollDir, pollRoute])
  assert.equal(r.status, 201, r.body)
  assert.ok(r.json.redactedStrings > 20, JSON.stringify(r.json))
  assert.deepEqual(seen.leaks, [], 'the unredacted snapshot was visible')
  // the final file: redacted, and the only thing left
  const files = fs.readdirSync(dir)
  assert.deepEqual(files, [`${r.json.id}.heapsnapshot.gz`])
  const stored = zlib.gunzipSync(fs.readFileSync(path.join(dir, files[0])))
  assert.ok(!stored.includes(SECRET) && stored.includes('"Session"') && stored.includes('"token"'))
  assert.equal(r.json.bytes, stored.length)
})

test('SIGKILL during redaction leaves nothing listable; the restart removes the rest', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'killed-'))
  const c = await route({ route: { dir, redact: true }, objects: 300_000, secret: SECRET })
  const pending = request(c.base, 'POST', '/snapshots', auth)
  // the redacted copy is being written: the capture itself is complete
  await waitFor(() => fs.readdirSync(dir).some((f) => f.includes('.redacting')), { everyMs: 1, what: 'the redaction' })
  c.child.kill('SIGKILL')
  assert.equal((await c.exited).signal, 'SIGKILL')
  await pending
  assert.deepEqual(listable(dir), [], 'an unredacted snapshot under a listable name')
  const restarted = await route({ route: { dir } })
  assert.deepEqual((await request(restarted.base, 'GET', '/snapshots', auth)).json.snapshots, [])
  assert.deepEqual(fs.readdirSync(dir), [], 'the temp files were removed at start')
})
