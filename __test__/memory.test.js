'use strict'
// "Capture only when it fits": this process's cgroup (and its ancestors) and the object-count
// estimate behind snapshotRoom(), for the route and the monitor.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const { spawn, spawnSync } = require('node:child_process')
const leakprobe = require('..')
const memory = require('../lib/admin/memory')
const { limitedCgroup, removeCgroup } = require('./helpers/cgroup')

const { cgroupRoom, snapshotRoom, SYSTEM } = memory
const ROOT = path.join(__dirname, '..')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-memory-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

const MB = 1e6
// cgroup v1's "no limit" on 4 KiB pages
const V1_UNLIMITED = '9223372036854771712'

// A fake system under a temp dir: /proc/self/{cgroup,mountinfo} and cgroup files.
let fakes = 0
function fakeSystem({ cgroup, mountinfo, files = {} }) {
  const root = path.join(tmp, `sys${fakes++}`)
  const write = (rel, text) => {
    fs.mkdirSync(path.join(root, path.dirname(rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), `${text}\n`)
  }
  write('proc/self/cgroup', cgroup.join('\n'))
  if (mountinfo) write('proc/self/mountinfo', mountinfo.join('\n'))
  for (const [rel, text] of Object.entries(files)) write(rel, text)
  return root
}

// mountinfo lines as the kernel writes them
const mi = {
  tmpfs: '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  v2: (at = '/sys/fs/cgroup', root = '/') => `41 31 0:38 ${root} ${at} rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate`,
  v1: (ctrl, at = `/sys/fs/cgroup/${ctrl}`, root = '/') => `35 31 0:32 ${root} ${at} rw,relatime shared:12 - cgroup cgroup rw,${ctrl}`,
  proc: '22 1 0:5 / /proc rw,relatime - proc proc rw',
}

// ── cgroup v2 ────────────────────────────────────────────────────────────────────────────────────

test('cgroup v2: a limit on this cgroup; usage counts, its inactive page cache does not', () => {
  const cg = 'sys/fs/cgroup/app.slice/svc.service'
  const root = fakeSystem({
    cgroup: ['0::/app.slice/svc.service'],
    mountinfo: [mi.proc, mi.v2()],
    files: {
      [`${cg}/memory.max`]: String(500 * MB),
      [`${cg}/memory.current`]: String(150 * MB),
      [`${cg}/memory.stat`]: `anon 90000000\nfile 60000000\nactive_file 10000000\ninactive_file ${50 * MB}`,
      'sys/fs/cgroup/app.slice/memory.max': 'max',
      'sys/fs/cgroup/app.slice/memory.current': String(900 * MB),
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory',
    },
  })
  const r = cgroupRoom({ root })
  assert.equal(r.room, 400 * MB, '500 MB − (150 − 50 inactive file) MB')
  assert.equal(r.limit, 500 * MB)
  assert.equal(r.dir, '/sys/fs/cgroup/app.slice/svc.service')
  assert.equal(r.version, 2)
})

test('cgroup v2: a limit only on an ancestor (the slice) applies, with the ancestor\'s usage', () => {
  const root = fakeSystem({
    cgroup: ['0::/app.slice/svc.service'],
    mountinfo: [mi.v2()],
    files: {
      'sys/fs/cgroup/app.slice/svc.service/memory.max': 'max',
      'sys/fs/cgroup/app.slice/svc.service/memory.current': String(20 * MB),
      'sys/fs/cgroup/app.slice/memory.max': String(300 * MB),
      'sys/fs/cgroup/app.slice/memory.current': String(250 * MB),
    },
  })
  const r = cgroupRoom({ root })
  assert.equal(r.room, 50 * MB)
  assert.equal(r.dir, '/sys/fs/cgroup/app.slice')
  const room = snapshotRoom({ heapUsed: 10 * MB, [SYSTEM]: { root, freemem: () => 8e9 } })
  assert.equal(room.limitedBy, 'cgroup')
  assert.equal(room.available, 50 * MB)
  assert.equal(room.ok, false, '10 MB of small objects need ~112 MB')
  assert.equal(room.text, 'needs ~113 MB, 50 MB free under the cgroup memory limit')
})

test('cgroup v2: "max" at every level is no limit: the machine\'s free memory decides', () => {
  const root = fakeSystem({
    cgroup: ['0::/user.slice/user-1000.slice/session-2.scope'],
    mountinfo: [mi.v2()],
    files: {
      'sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.max': 'max',
      'sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.current': String(20 * MB),
      'sys/fs/cgroup/user.slice/user-1000.slice/memory.max': 'max',
      'sys/fs/cgroup/user.slice/memory.max': 'max',
    },
  })
  assert.deepEqual(cgroupRoom({ root }), { room: Infinity })
  const room = snapshotRoom({ heapUsed: 10 * MB, [SYSTEM]: { root, freemem: () => 3e9 } })
  assert.equal(room.limitedBy, 'memory')
  assert.equal(room.available, 3e9)
  assert.equal(room.ok, true)
})

test('cgroup v2 at a mount point read from mountinfo, not assumed (and mountinfo\'s \\040 escapes)', () => {
  const root = fakeSystem({
    cgroup: ['0::/svc'],
    mountinfo: [mi.proc, mi.v2('/run/my\\040cgroups')],
    files: {
      'run/my cgroups/svc/memory.max': String(100 * MB),
      'run/my cgroups/svc/memory.current': String(40 * MB),
      // what a hard-wired /sys/fs/cgroup would read: must be ignored
      'sys/fs/cgroup/svc/memory.max': String(1 * MB),
      'sys/fs/cgroup/svc/memory.current': '0',
    },
  })
  assert.equal(cgroupRoom({ root }).room, 60 * MB)
})

// ── cgroup v1 ────────────────────────────────────────────────────────────────────────────────────

test('cgroup v1: the memory controller\'s huge "no limit" number is no limit', () => {
  const root = fakeSystem({
    cgroup: ['5:cpu,cpuacct:/', '4:memory:/process_api/abc', '1:name=systemd:/'],
    mountinfo: [mi.tmpfs, mi.v1('cpu,cpuacct'), mi.v1('memory')],
    files: {
      'sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes': V1_UNLIMITED,
      'sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes': String(40 * MB),
      'sys/fs/cgroup/memory/process_api/memory.limit_in_bytes': V1_UNLIMITED,
      'sys/fs/cgroup/memory/memory.limit_in_bytes': V1_UNLIMITED,
      'sys/fs/cgroup/memory/memory.usage_in_bytes': String(9000 * MB),
    },
  })
  assert.deepEqual(cgroupRoom({ root }), { room: Infinity })
})

test('cgroup v1: a limit on this cgroup (and a looser one on its parent)', () => {
  const root = fakeSystem({
    cgroup: ['4:memory:/process_api/abc'],
    mountinfo: [mi.tmpfs, mi.v1('memory')],
    files: {
      'sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes': String(256 * MB),
      'sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes': String(56 * MB),
      'sys/fs/cgroup/memory/process_api/abc/memory.stat': `cache 0\ntotal_inactive_file ${6 * MB}`,
      'sys/fs/cgroup/memory/process_api/memory.limit_in_bytes': String(2000 * MB),
      'sys/fs/cgroup/memory/process_api/memory.usage_in_bytes': String(1000 * MB),
      'sys/fs/cgroup/memory/memory.limit_in_bytes': V1_UNLIMITED,
    },
  })
  const r = cgroupRoom({ root })
  assert.equal(r.room, 206 * MB)
  assert.equal(r.version, 1)
  assert.equal(r.dir, '/sys/fs/cgroup/memory/process_api/abc')
})

test('hybrid host: memory on v1, the v2 unified tree (no memory controller) is read too and adds nothing', () => {
  const cgroup = ['9:name=systemd:/', '4:memory:/process_api/abc', '1:cpu:/', '0::/']
  const mountinfo = [mi.tmpfs, mi.v1('cpu'), mi.v1('memory'), mi.v1('name=systemd', '/sys/fs/cgroup/systemd'), mi.v2('/sys/fs/cgroup/unified')]
  const files = {
    'sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes': String(300 * MB),
    'sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes': String(100 * MB),
    'sys/fs/cgroup/memory/memory.limit_in_bytes': V1_UNLIMITED,
    'sys/fs/cgroup/unified/cgroup.controllers': '',
    'sys/fs/cgroup/unified/cgroup.procs': '1',
  }
  assert.equal(cgroupRoom({ root: fakeSystem({ cgroup, mountinfo, files }) }).room, 200 * MB)
  // a tighter v2 limit (memory in the unified tree, e.g. on a newer hybrid setup) wins
  const both = fakeSystem({
    cgroup: ['4:memory:/process_api/abc', '0::/svc'],
    mountinfo,
    files: { ...files, 'sys/fs/cgroup/unified/svc/memory.max': String(150 * MB), 'sys/fs/cgroup/unified/svc/memory.current': String(100 * MB) },
  })
  const r = cgroupRoom({ root: both })
  assert.equal(r.room, 50 * MB)
  assert.equal(r.version, 2)
  // without mountinfo, the usual places under /sys/fs/cgroup
  assert.equal(cgroupRoom({ root: fakeSystem({ cgroup, files }) }).room, 200 * MB)
})

// ── containers ───────────────────────────────────────────────────────────────────────────────────

test('container: this cgroup\'s path is missing under the mount (the container sees its cgroup as the root) → the mount root', () => {
  // v2, host cgroup namespace: the path names the host's cgroup, the mount shows only ours
  const v2 = fakeSystem({
    cgroup: ['0::/kubepods.slice/pod-1.slice/cri-abc.scope'],
    mountinfo: [mi.v2()],
    files: {
      'sys/fs/cgroup/memory.max': String(256 * MB),
      'sys/fs/cgroup/memory.current': String(200 * MB),
    },
  })
  const r = cgroupRoom({ root: v2 })
  assert.equal(r.room, 56 * MB)
  assert.equal(r.dir, '/sys/fs/cgroup')
  // v1 docker: /proc/self/cgroup says /docker/<id>, the mount is that cgroup
  const v1 = fakeSystem({
    cgroup: ['4:memory:/docker/0123abcd'],
    mountinfo: [mi.tmpfs, mi.v1('memory', '/sys/fs/cgroup/memory', '/docker/0123abcd')],
    files: {
      'sys/fs/cgroup/memory/memory.limit_in_bytes': String(512 * MB),
      'sys/fs/cgroup/memory/memory.usage_in_bytes': String(500 * MB),
    },
  })
  assert.equal(cgroupRoom({ root: v1 }).room, 12 * MB)
  const room = snapshotRoom({ heapUsed: 1 * MB, [SYSTEM]: { root: v1, freemem: () => 64e9 } })
  assert.deepEqual([room.limitedBy, room.available, room.ok], ['cgroup', 12 * MB, true])
  // a cgroup above our namespace's root (/../…) is not followed out of the mount
  const escaped = fakeSystem({
    cgroup: ['0::/../../other'],
    mountinfo: [mi.v2()],
    files: { 'sys/fs/cgroup/memory.max': String(80 * MB), 'sys/fs/cgroup/memory.current': '0', 'sys/fs/cgroup/other/memory.max': '1' },
  })
  assert.equal(cgroupRoom({ root: escaped }).room, 80 * MB)
})

test('snapshotRoom is a public entry, CommonJS and ESM; bad options are refused', () => {
  const esm = path.join(tmp, 'esm.mjs')
  fs.writeFileSync(esm, `import { snapshotRoom } from ${JSON.stringify(path.join(ROOT, 'index.js'))}
console.log(JSON.stringify(snapshotRoom({ heapUsed: 1e6 })))`)
  const out = spawnSync(process.execPath, [esm], { encoding: 'utf8' })
  assert.equal(out.status, 0, out.stderr)
  const r = JSON.parse(out.stdout)
  assert.deepEqual(Object.keys(r), ['ok', 'need', 'available', 'objects', 'bytesPerObject', 'basis', 'limitedBy', 'text'])
  assert.equal(leakprobe.snapshotRoom, snapshotRoom)
  assert.throws(() => snapshotRoom({ heapUsed: -1 }), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
  assert.throws(() => snapshotRoom({ heapUsed: 1, factor: 'x' }), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
  assert.throws(() => snapshotRoom(5), { code: 'ERR_LEAKPROBE_INVALID_ARG' })
})

test('no cgroups at all (not Linux, no /proc): no limit', () => {
  assert.deepEqual(cgroupRoom({ root: path.join(tmp, 'nothing-here') }), { room: Infinity })
})

// ── on this machine: a real cgroup ───────────────────────────────────────────────────────────────

test('this machine: a child moved into a v1 memory cgroup with a limit reports limitedBy: cgroup', async (t) => {
  const limit = Math.min(512 * 1024 * 1024, Math.floor(os.freemem() / 4))
  const cgroup = limitedCgroup(`leakprobe-test-${process.pid}`, limit)
  if (cgroup.skip) return t.skip(cgroup.skip)
  const dir = cgroup.dir
  const set = Number(fs.readFileSync(path.join(dir, 'memory.limit_in_bytes'), 'utf8')) // rounded to pages
  const child = spawn(process.execPath, ['-e', `
    process.stdin.once('data', () => {
      const { snapshotRoom } = require(${JSON.stringify(ROOT)})
      const cg = require(${JSON.stringify(path.join(ROOT, 'lib/admin/memory'))}).cgroupRoom()
      process.stdout.write(JSON.stringify({ room: snapshotRoom(), cg, cgroup: require('fs').readFileSync('/proc/self/cgroup', 'utf8') }))
      process.stdin.destroy()
    })`], { stdio: ['pipe', 'pipe', 'inherit'] })
  try {
    let out = ''
    child.stdout.on('data', (c) => { out += c })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(child.pid))
    child.stdin.write('go\n')
    assert.equal(await exited, 0)
    const { room, cg, cgroup } = JSON.parse(out)
    assert.match(cgroup, new RegExp(`memory:.*/leakprobe-test-${process.pid}\\n`), 'the child runs in the test cgroup')
    assert.equal(cg.limit, set)
    assert.equal(room.limitedBy, 'cgroup', JSON.stringify(room))
    assert.ok(room.available > 0 && room.available <= set, `${room.available} free under a ${set} limit`)
    assert.match(room.text, /free under the cgroup memory limit$/)
  } finally {
    child.kill()
    await removeCgroup(dir)
  }
  assert.equal(fs.existsSync(dir), false, 'the test cgroup is removed')
})

// ── the estimate ─────────────────────────────────────────────────────────────────────────────────

test('estimate: the default is ~11x the heap (small objects); a capture refines it; a factor overrides', () => {
  // a fresh process: nothing noted yet
  const out = spawnSync(process.execPath, ['-e', `
    const m = require(${JSON.stringify(path.join(ROOT, 'lib/admin/memory'))})
    const heapUsed = 100e6
    const rows = [m.snapshotRoom({ heapUsed })]
    m.noteCapture({ heapUsed: 50e6, nodes: 500000 })
    rows.push(m.snapshotRoom({ heapUsed }))
    rows.push(m.snapshotRoom({ heapUsed, factor: 3 }))
    m.noteCapture({ heapUsed: 1, nodes: null }) // a capture without a node count changes nothing
    rows.push(m.snapshotRoom({ heapUsed }))
    process.stdout.write(JSON.stringify({ rows }))`], { encoding: 'utf8' })
  assert.equal(out.status, 0, out.stderr)
  const { rows: [def, captured, factor, after] } = JSON.parse(out.stdout)
  assert.deepEqual([def.basis, def.bytesPerObject, def.objects, def.need], ['default', 40, 2.5e6, 2.5e6 * 450])
  assert.ok(def.need / 100e6 > 10 && def.need / 100e6 < 12, 'the default is close to 11x the heap')
  assert.deepEqual([captured.basis, captured.bytesPerObject, captured.objects, captured.need], ['capture', 100, 1e6, 1e6 * 450])
  assert.deepEqual([factor.basis, factor.need, factor.objects], ['factor', 300e6, 1e6])
  assert.equal(after.basis, 'capture')
  assert.equal(after.objects, 1e6)
  for (const r of [def, captured, factor]) {
    assert.equal(r.ok, r.need <= r.available)
    assert.match(r.text, /^needs ~[\d.]+ [KMGT]?B, [\d.]+ [KMGT]?B free/)
  }
})

test('estimate: after a real capture(), basis is capture and objects ≈ nodes × heap now / heap then; nodes come without analyze and match analyze()', async () => {
  const dir = path.join(tmp, 'capture')
  const out = spawnSync(process.execPath, ['-e', `
    const v8 = require('v8')
    const leakprobe = require(${JSON.stringify(ROOT)})
    ;(async () => {
      const before = leakprobe.snapshotRoom()
      globalThis.keep = Array.from({ length: 20000 }, (_, i) => ({ i, s: 'x' + i }))
      const capture = leakprobe.capture // loads lib/capture.js: not part of the heap measured
      const heapThen = v8.getHeapStatistics().used_heap_size
      const c = await capture({ dir: ${JSON.stringify(dir)} })
      globalThis.more = Array.from({ length: 50000 }, (_, i) => ({ i, s: 'y' + i }))
      const heapNow = v8.getHeapStatistics().used_heap_size
      const after = leakprobe.snapshotRoom({ heapUsed: heapNow })
      process.stdout.write(JSON.stringify({ before, c, heapThen, heapNow, after }))
    })()`], { encoding: 'utf8' })
  assert.equal(out.status, 0, out.stderr)
  const { before, c, heapThen, heapNow, after } = JSON.parse(out.stdout)
  assert.equal(before.basis, 'default')
  assert.equal(typeof c.nodes, 'number')
  assert.ok(c.nodes > 1000)
  assert.equal(c.report, undefined, 'no analysis was asked for')
  assert.equal(after.basis, 'capture')
  // the average object size is capture()'s heap figure (taken just before the snapshot) over the
  // node count: the figure here is a few allocations earlier, and a scavenge between the two can
  // take some percent off (seen on Node 24)
  const perObject = heapThen / c.nodes
  assert.ok(Math.abs(after.bytesPerObject - perObject) / perObject < 0.1, `${after.bytesPerObject} B per object, expected ~${Math.round(perObject)}`)
  const objects = heapNow / after.bytesPerObject // (bytesPerObject is rounded in the result)
  assert.ok(Math.abs(after.objects - objects) / objects < 0.005, `${after.objects} objects, expected ~${Math.round(objects)}`)
  assert.equal(after.need, after.objects * memory.SNAPSHOT_BYTES_PER_OBJECT)
  const report = await leakprobe.analyze(c.file)
  assert.equal(c.nodes, report.snapshot.nodes, 'the header\'s node_count is the analysis\'s node count')
})

// ── the route ────────────────────────────────────────────────────────────────────────────────────

const TOKEN = 'tok-0123456789abcdef-memory'
const auth = { authorization: `Bearer ${TOKEN}` }
const servers = []
after(async () => Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) }))))

async function serve(opts) {
  const server = http.createServer(leakprobe.handler({ token: TOKEN, dir: path.join(tmp, `route${servers.length}`), minIntervalMs: 0, ...opts }))
  servers.push(server)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${server.address().port}`
}

test('route: 503 names what a snapshot needs, what is free and what limits it (the machine, via memoryFactor)', async () => {
  const base = await serve({ memoryFactor: 1e9 })
  const r = await fetch(`${base}/snapshots`, { method: 'POST', headers: auth })
  assert.equal(r.status, 503)
  assert.ok(Number(r.headers.get('retry-after')) > 0)
  const { error } = await r.json()
  assert.equal(error.code, 'ERR_LEAKPROBE_NO_MEMORY')
  const m = /needs about ([\d.]+ [KMGT]?B) \((\d+) bytes: 1000000000x the heap in use, the route's memoryFactor\) and only ([\d.]+ [KMGT]?B) \((\d+) bytes\) is free on this machine; nothing was captured$/.exec(error.message)
  assert.ok(m, error.message)
  assert.ok(Number(m[2]) > 1e15 && Number(m[4]) > 0 && Number(m[4]) < Number(m[2]))
  const stored = path.join(tmp, `route${servers.length - 1}`)
  assert.deepEqual(fs.existsSync(stored) ? fs.readdirSync(stored) : [], [], 'nothing written')
  const stats = await (await fetch(`${base}/stats`, { headers: auth })).json()
  assert.equal(stats.snapshotRoom.basis, 'factor')
  assert.equal(stats.snapshotRoom.ok, false)
})

test('route: 503 under a (fake) cgroup limit, with the estimate; GET /stats gives the same answer', async () => {
  const root = fakeSystem({
    cgroup: ['0::/svc'],
    mountinfo: [mi.v2()],
    files: { 'sys/fs/cgroup/svc/memory.max': String(100 * MB), 'sys/fs/cgroup/svc/memory.current': String(95 * MB) },
  })
  const base = await serve({ [SYSTEM]: { root, freemem: () => 64e9 } })
  const r = await fetch(`${base}/snapshots`, { method: 'POST', headers: auth })
  assert.equal(r.status, 503)
  const { error } = await r.json()
  assert.equal(error.code, 'ERR_LEAKPROBE_NO_MEMORY')
  assert.match(error.message, /^a heap snapshot needs about [\d.]+ [KMG]B \(\d+ bytes: ~[\d,]+ heap objects × 450 B, [^)]+\) and only 5 MB \(5000000 bytes\) is free under this process's cgroup memory limit; nothing was captured$/)
  const stats = await (await fetch(`${base}/stats`, { headers: auth })).json()
  assert.deepEqual([stats.snapshotRoom.limitedBy, stats.snapshotRoom.available, stats.snapshotRoom.ok], ['cgroup', 5 * MB, false])
  assert.ok(['default', 'capture'].includes(stats.snapshotRoom.basis))
  assert.ok(stats.snapshotRoom.need > stats.heap.used)
  // the same route with room: it captures
  const roomy = fakeSystem({
    cgroup: ['0::/svc'],
    mountinfo: [mi.v2()],
    files: { 'sys/fs/cgroup/svc/memory.max': String(100e9), 'sys/fs/cgroup/svc/memory.current': String(95 * MB) },
  })
  const ok = await fetch(`${await serve({ [SYSTEM]: { root: roomy, freemem: () => 64e9 } })}/snapshots`, { method: 'POST', headers: auth })
  assert.equal(ok.status, 201)
  assert.equal(typeof (await ok.json()).nodes, 'number')
})
