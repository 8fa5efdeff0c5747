'use strict'
// The route's snapshot store: this user's own directory, one per app, never a symlink followed,
// and what killed captures leave behind removed at start (issue 21, items 2 and 3).
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const leakprobe = require('..')
const { startRoute, request, waitFor, TOKEN, auth } = require('./helpers/spawn-route')

const ROOT = path.join(__dirname, '..')
const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-store-'))
const children = []
after(async () => {
  await Promise.all(children.map((c) => c.stop()))
  fs.rmSync(tmp, { recursive: true, force: true })
})
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const notRoot = !isRoot && 'needs root: it makes a directory owned by another uid (65534)'

async function route(args, opts) {
  const c = await startRoute(args, opts)
  children.push(c)
  return c
}

const listed = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
const ids = async (base) => (await request(base, 'GET', '/snapshots', auth)).json.snapshots.map((s) => s.id)

test('a store directory another uid made, or others can write, or a symlink, is refused at setup', { skip: notRoot }, () => {
  const theirs = path.join(tmp, 'theirs')
  fs.mkdirSync(theirs)
  fs.chmodSync(theirs, 0o777)
  fs.chownSync(theirs, 65534, 65534)
  assert.throws(() => leakprobe.handler({ token: TOKEN, dir: theirs }), { code: 'ERR_LEAKPROBE_DIR', message: /owned by uid 65534/ })
  // theirs with a private mode: still theirs
  fs.chmodSync(theirs, 0o700)
  assert.throws(() => leakprobe.handler({ token: TOKEN, dir: theirs }), { code: 'ERR_LEAKPROBE_DIR', message: /owned by uid 65534/ })
  // ours, but anyone may write to it
  const open = path.join(tmp, 'open')
  fs.mkdirSync(open)
  fs.chmodSync(open, 0o777)
  assert.throws(() => leakprobe.handler({ token: TOKEN, dir: open }), { code: 'ERR_LEAKPROBE_DIR', message: /written by other users.*chmod 700/ })
  fs.chmodSync(open, 0o770)
  assert.throws(() => leakprobe.handler({ token: TOKEN, dir: open }), { code: 'ERR_LEAKPROBE_DIR', message: /written by its group/ })
  // a symlink to a directory of ours
  const mine = fs.mkdtempSync(path.join(tmp, 'mine-'))
  fs.symlinkSync(mine, path.join(tmp, 'link'))
  assert.throws(() => leakprobe.handler({ token: TOKEN, dir: path.join(tmp, 'link') }), { code: 'ERR_LEAKPROBE_DIR', message: /symbolic link/ })
  assert.equal(typeof leakprobe.handler({ token: TOKEN, dir: mine }), 'function')

  // the default location, made first by another user: refused, never shared
  const saved = process.env.TMPDIR
  process.env.TMPDIR = fs.mkdtempSync(path.join(tmp, 'tmpdir-'))
  try {
    const squat = path.join(process.env.TMPDIR, `leakprobe-${process.getuid()}`)
    fs.mkdirSync(squat, { mode: 0o777 })
    fs.chmodSync(squat, 0o777)
    fs.chownSync(squat, 65534, 65534)
    assert.throws(() => leakprobe.handler({ token: TOKEN }), { code: 'ERR_LEAKPROBE_DIR', message: /owned by uid 65534/ })
    assert.deepEqual(fs.readdirSync(squat), [], 'nothing written in it')
  } finally {
    if (saved === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = saved
  }
})

test('symlinks planted in the store are neither listed, opened nor written through', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'planted-'))
  const outside = path.join(tmp, 'shadow')
  fs.writeFileSync(outside, 'root:$6$secret-hash:19000:0:99999:7:::\n')
  const victim = path.join(tmp, 'victim')
  fs.writeFileSync(victim, 'do not overwrite')
  const c = await route({ route: { dir, allowDownload: true } })
  const real = '2026-01-01T00-00-00-000Z-0000000a'
  const fake = '2026-01-01T00-00-00-000Z-0000000b'
  fs.copyFileSync(FIXTURE, path.join(dir, `${real}.heapsnapshot.gz`))
  fs.chmodSync(path.join(dir, `${real}.heapsnapshot.gz`), 0o600)
  // a "snapshot" that is a link to a file outside; report temp names linked to a file to clobber
  fs.symlinkSync(outside, path.join(dir, `${fake}.heapsnapshot.gz`))
  fs.symlinkSync(victim, path.join(dir, `${real}.report.json.tmp`))
  fs.symlinkSync(victim, path.join(dir, `.${real}.report.json.tmp`))

  assert.deepEqual(await ids(c.base), [real], 'the link is not listed')
  for (const [m, p] of [['GET', `/snapshots/${fake}`], ['GET', `/snapshots/${fake}/report`], ['GET', `/compare?baseline=${fake}&target=${real}`]]) {
    const r = await request(c.base, m, p, auth)
    assert.equal(r.status, 404, `${m} ${p}: ${r.body}`)
    assert.ok(!r.body.includes('root') && !r.body.includes('secret-hash'), r.body)
  }
  const rep = await request(c.base, 'GET', `/snapshots/${real}/report`, auth)
  assert.equal(rep.status, 200, rep.body)
  assert.equal(rep.json.format, 'leakprobe-report/1')
  assert.equal(fs.readFileSync(victim, 'utf8'), 'do not overwrite')
  assert.ok(fs.lstatSync(path.join(dir, `${real}.report.json`)).isFile(), 'the report cache is a file of its own')
  // a report cache that is a link is not read: the route analyzes again
  fs.rmSync(path.join(dir, `${real}.report.json`))
  fs.writeFileSync(path.join(tmp, 'planted.json'), '{"format":"planted"}')
  fs.symlinkSync(path.join(tmp, 'planted.json'), path.join(dir, `${real}.report.json`))
  assert.equal((await request(c.base, 'GET', `/snapshots/${real}/report`, auth)).json.format, 'leakprobe-report/1')
  // DELETE of the link's id: not ours to delete, the file it points to stays
  assert.equal((await request(c.base, 'DELETE', `/snapshots/${fake}`, auth)).status, 404)
  assert.ok(fs.existsSync(outside))
})

// two "apps" (two main scripts) with the route's defaults, in one temp dir of their own
test('two apps with default stores neither list, prune nor delete each other\'s snapshots', async () => {
  const tmpdir = fs.mkdtempSync(path.join(tmp, 'apps-'))
  const env = { ...process.env, TMPDIR: tmpdir }
  const apps = ['app-a', 'app-b'].map((name) => {
    const dir = path.join(tmp, name)
    fs.mkdirSync(dir)
    const script = path.join(dir, 'server.js')
    fs.writeFileSync(script, `process.argv[2] = JSON.stringify({ route: { keep: 1 } }); require(${JSON.stringify(path.join(ROOT, '__test__', 'helpers', 'route-child.js'))})`)
    return { dir, script }
  })
  const [a, b] = await Promise.all(apps.map((app) => route({}, { script: app.script, env, cwd: app.dir })))
  const snapA = (await request(a.base, 'POST', '/snapshots', auth)).json
  const snapB = (await request(b.base, 'POST', '/snapshots', auth)).json
  assert.ok(snapA.id && snapB.id)
  assert.deepEqual(await ids(a.base), [snapA.id])
  assert.deepEqual(await ids(b.base), [snapB.id])
  assert.equal((await request(b.base, 'DELETE', `/snapshots/${snapA.id}`, auth)).status, 404)
  assert.equal((await request(b.base, 'GET', `/snapshots/${snapA.id}/report`, auth)).status, 404)
  // b's retention (keep: 1) prunes b's own snapshot only
  const snapB2 = (await request(b.base, 'POST', '/snapshots', auth)).json
  assert.deepEqual(await ids(b.base), [snapB2.id])
  assert.deepEqual(await ids(a.base), [snapA.id])
  // where they are: <tmp>/leakprobe-<uid>/route-<hash>, 0700 each
  const userDir = path.join(tmpdir, `leakprobe-${process.getuid()}`)
  assert.equal(fs.statSync(userDir).mode & 0o777, 0o700)
  const stores = fs.readdirSync(userDir).sort()
  assert.equal(stores.length, 2, stores.join())
  for (const s of stores) {
    assert.match(s, /^route-[0-9a-f]{16}$/)
    assert.equal(fs.statSync(path.join(userDir, s)).mode & 0o777, 0o700)
  }
})

test('SIGTERM during a capture, then a restart: its temp file and FIFO are removed, a live capture\'s stay', { skip: process.platform === 'win32' && 'FIFOs' }, async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'killed-'))
  const dots = () => listed(dir).filter((f) => f.startsWith('.'))
  const killed = await route({ route: { dir }, objects: 400_000 })
  const pending = request(killed.base, 'POST', '/snapshots', auth)
  await waitFor(() => dots().some((f) => f.endsWith('.fifo')) && dots().some((f) => f.endsWith('.tmp')), { what: 'the capture\'s FIFO and temp file' })
  killed.child.kill('SIGTERM')
  assert.equal((await killed.exited).signal, 'SIGTERM')
  assert.equal((await pending).status, 0, 'the request died with the server')
  const left = dots()
  assert.ok(left.some((f) => /^\.\d{4}-.*\.heapsnapshot\.gz\.tmp$/.test(f)) && left.some((f) => /\.fifo$/.test(f)), left.join())

  // the restart removes them
  const restarted = await route({ route: { dir }, objects: 400_000 })
  assert.deepEqual(await ids(restarted.base), [])
  assert.deepEqual(dots(), [], 'the dead capture\'s temp file and FIFO were removed')

  // a capture in flight in one process of the app while another one starts: its files stay
  const liveCapture = request(restarted.base, 'POST', '/snapshots', auth)
  await waitFor(() => dots().some((f) => f.endsWith('.fifo')) && dots().some((f) => f.endsWith('.tmp')), { what: 'the live capture\'s FIFO and temp file' })
  const inFlight = dots()
  const sibling = await route({ route: { dir } })
  const r = await liveCapture
  assert.equal(r.status, 201, `${r.body} (files in flight: ${inFlight.join()})`)
  assert.deepEqual(await ids(sibling.base), [r.json.id])
  assert.deepEqual(dots(), [], 'nothing hidden left')
})
