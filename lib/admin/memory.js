'use strict'
// Can this process hold a heap snapshot of its current heap right now? One answer for the admin
// route's 503, GET /stats and the monitor's own captures: `snapshotRoom()`.
//
// What a snapshot needs. While V8 builds and serializes a snapshot, its own structures (an entry
// per heap object, its edges, the names table, the serializer's buffers) cost RSS per heap
// *object*, not per heap byte: measured on this project's test machines, ~415 B per object for a
// 100 MB heap of ~2.4 M small objects (+995 MB of peak RSS) and ~450 B per object for a 700 MB
// socket.io heap of 4.0 M objects holding large strings (+1.8 GB). So the same factor over the
// heap is 10x for the first and 2.6x for the second: a fixed "10x the heap" refused captures that
// fit and allowed ones that did not. need = objects × SNAPSHOT_BYTES_PER_OBJECT, where
// objects = heap in use / the average object size, taken from (the first that is known):
//   'capture'  this process's last capture: heap used just before it / the snapshot's node count
//              (V8 writes node_count in the header; capture() always reports it);
//   'default'  DEFAULT_OBJECT_SIZE, a small-object heap, so the default need is ~11x the heap.
// An explicit factor (the route's `memoryFactor`) keeps its old meaning: need = factor × heap.
//
// What is free: the least of the machine's MemAvailable and the room under the memory limit of
// this process's cgroup *and every ancestor of it* (a systemd slice, a container's cgroup, a pod):
// limit − usage at each level, found from /proc/self/cgroup and /proc/self/mountinfo (cgroup v2,
// v1's memory controller, or both on hybrid hosts). Usage counts page cache; its inactive part
// (inactive_file in memory.stat) is what the kernel reclaims first, and MemAvailable counts it as
// free too, so it is not held against the room.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const v8 = require('node:v8')
const { invalidArg } = require('../errors')
const { number, isNumber } = require('../options')

/** RSS V8's snapshot machinery costs per heap object (the upper end of the figures above). */
const SNAPSHOT_BYTES_PER_OBJECT = 450
/**
 * Average heap object size assumed when nothing was measured: heaps of small objects are the
 * costly case (a 100 MB heap of 2.4 M objects averaged ~42 B: short strings, 3-4 property
 * objects, closures, heap numbers are 16-64 B on x64), so assume them: 450 / 40 ≈ 11x the heap.
 * A heap of bigger objects is then over-estimated until its first capture measures it.
 */
const DEFAULT_OBJECT_SIZE = 40
/** cgroup v1 writes "no limit" as a huge number (2^63 − 4096 on 4 KiB pages) */
const V1_NO_LIMIT = 2 ** 62

// Internal: a fake system for tests (`{ root, freemem }`), never a documented option.
const SYSTEM = Symbol('leakprobe.system')

const estimate = { capture: null }

/** After a capture: the heap in use just before it and the snapshot's node count. */
function noteCapture({ heapUsed, nodes } = {}) {
  if (isNumber(heapUsed, Number.MIN_VALUE) && isNumber(nodes, Number.MIN_VALUE)) estimate.capture = { heapUsed, nodes }
}

function objectSize() {
  if (estimate.capture) return { bytesPerObject: estimate.capture.heapUsed / estimate.capture.nodes, basis: 'capture' }
  return { bytesPerObject: DEFAULT_OBJECT_SIZE, basis: 'default' }
}

/**
 * → { ok, need, available, objects, bytesPerObject, basis, limitedBy, text } for a snapshot of a
 * heap of `heapUsed` bytes (default: the heap in use now). With `factor`, need = factor × heap.
 */
function snapshotRoom(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('snapshotRoom(options): options must be an object')
  const { heapUsed = v8.getHeapStatistics().used_heap_size, factor } = options
  number('snapshotRoom(): `heapUsed` (bytes)', heapUsed)
  if (factor !== null) number('snapshotRoom(): `factor`', factor)
  const sys = options[SYSTEM] || {}
  const { bytesPerObject, basis } = objectSize()
  const objects = Math.round(heapUsed / bytesPerObject)
  const byFactor = factor !== undefined && factor !== null
  const need = byFactor ? Math.ceil(heapUsed * factor) : objects * SNAPSHOT_BYTES_PER_OBJECT
  const free = sys.freemem ? sys.freemem() : machineAvailable(sys.root)
  const cg = cgroupRoom({ root: sys.root })
  const limitedBy = cg.room < free ? 'cgroup' : 'memory'
  const available = Math.max(0, Math.floor(Math.min(free, cg.room)))
  return {
    ok: need <= available,
    need,
    available,
    objects,
    bytesPerObject: Math.round(bytesPerObject * 10) / 10,
    basis: byFactor ? 'factor' : basis,
    limitedBy,
    text: `needs ~${bytes(need)}, ${bytes(available)} free${limitedBy === 'cgroup' ? ' under the cgroup memory limit' : ''}`,
  }
}

// MemAvailable (what the kernel can hand out without swapping: free + reclaimable cache)
function machineAvailable(root = '/') {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync(path.join(root, 'proc/meminfo'), 'utf8'))
    if (m) return Number(m[1]) * 1024
  } catch { /* no /proc/meminfo (macOS, Windows): the OS's figure */ }
  return os.freemem()
}

// ── cgroups ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Room left under the tightest memory limit on this process's cgroup or its ancestors, in every
 * hierarchy that has the memory controller (v2, v1, or both on a hybrid host).
 * → { room, limit, usage, dir, version } of the tightest level, or { room: Infinity } when no
 * level has a limit (or there are no cgroups: not Linux, /proc unreadable).
 * `root` prefixes every path read (/proc, the mount points): tests pass a fake tree.
 */
function cgroupRoom({ root = '/' } = {}) {
  let best = { room: Infinity }
  for (const h of memoryHierarchies(root)) {
    for (const dir of levels(root, h)) {
      const lv = h.version === 2 ? v2Level(dir) : v1Level(dir)
      if (lv && lv.room < best.room) best = { ...lv, dir: path.join('/', path.relative(path.resolve(root), dir)), version: h.version }
    }
  }
  return best
}

function v2Level(dir) {
  const limit = readNumber(path.join(dir, 'memory.max'))
  if (limit === null || limit === Infinity) return null
  return room(limit, readNumber(path.join(dir, 'memory.current')), statValue(dir, 'inactive_file'))
}

function v1Level(dir) {
  const limit = readNumber(path.join(dir, 'memory.limit_in_bytes'))
  if (limit === null || limit >= V1_NO_LIMIT) return null
  return room(limit, readNumber(path.join(dir, 'memory.usage_in_bytes')), statValue(dir, 'total_inactive_file'))
}

function room(limit, usage, inactiveFile) {
  // an unreadable usage next to a limit: assume the cgroup is full rather than empty
  const used = usage === null ? limit : usage - Math.min(Math.max(inactiveFile || 0, 0), usage)
  return { room: Math.max(0, limit - used), limit, usage }
}

// This process's memory cgroups: [{ version, mountDir, dir }] (absolute paths under `root`)
function memoryHierarchies(root) {
  const lines = readText(path.join(root, 'proc/self/cgroup'))
  if (lines === null) return []
  const mounts = parseMountinfo(readText(path.join(root, 'proc/self/mountinfo')))
  const out = []
  for (const line of lines.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim())
    if (!m) continue
    const [, id, controllers, cgPath] = m
    let version
    if (id === '0' && controllers === '') version = 2
    else if (controllers.split(',').includes('memory')) version = 1
    else continue
    const candidates = mounts
      ? mounts.filter((mt) => (version === 2 ? mt.fsType === 'cgroup2' : mt.fsType === 'cgroup' && mt.superOptions.includes('memory')))
      : fallbackMounts(root, version)
    const resolved = candidates.map((mt) => resolveDir(root, mt, cgPath))
    // a mount where this cgroup is visible, else the first mount's root (a container that sees
    // its own cgroup as the root of the hierarchy, under a path that names the host's)
    const hit = resolved.find((r) => r.found) || resolved[0]
    if (hit) out.push({ version, ...hit })
  }
  return out
}

// mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS
function parseMountinfo(text) {
  if (text === null) return null
  const out = []
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    const dash = f.indexOf('-', 6)
    if (dash < 0 || f.length < dash + 4) continue
    out.push({ root: unescape(f[3]), mountPoint: unescape(f[4]), fsType: f[dash + 1], superOptions: f[dash + 3].split(',') })
  }
  return out
}

// mountinfo escapes space, tab, newline and backslash as \ooo
const unescape = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)))

// Without a readable mountinfo: the usual places
function fallbackMounts(root, version) {
  const at = (p) => ({ root: '/', mountPoint: p, fsType: version === 2 ? 'cgroup2' : 'cgroup', superOptions: [] })
  if (version === 1) return [at('/sys/fs/cgroup/memory')]
  return fs.existsSync(path.join(root, 'sys/fs/cgroup/cgroup.controllers')) ? [at('/sys/fs/cgroup')] : [at('/sys/fs/cgroup/unified')]
}

// The directory of cgroup `cgPath` under mount `mt`: the mount shows the hierarchy from `mt.root`
// down (a bind mount of a sub-tree, a cgroup namespace); a path outside it, or missing, is the
// container case: its own cgroup is the mount's root.
function resolveDir(root, mt, cgPath) {
  const mountDir = path.join(path.resolve(root), mt.mountPoint)
  // a cgroup above our namespace's root shows as /../…: not under any mount we can see
  if (/(^|\/)\.\.(\/|$)/.test(cgPath)) return { mountDir, dir: mountDir, found: false }
  let rel = path.posix.normalize(`/${cgPath}`)
  const mroot = path.posix.normalize(`/${mt.root}`)
  if (mroot !== '/') {
    if (rel === mroot || rel.startsWith(`${mroot}/`)) rel = rel.slice(mroot.length) || '/'
    else return { mountDir, dir: mountDir, found: false }
  }
  const dir = path.join(mountDir, rel)
  const inside = dir === mountDir || dir.startsWith(`${mountDir}${path.sep}`)
  if (inside && isDir(dir)) return { mountDir, dir, found: true }
  return { mountDir, dir: mountDir, found: false }
}

// From the cgroup up to the mount's root, both included
function levels(root, { mountDir, dir }) {
  const out = [dir]
  for (let d = dir; d !== mountDir && d.startsWith(`${mountDir}${path.sep}`);) {
    d = path.dirname(d)
    out.push(d)
  }
  return out
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

function readNumber(file) {
  const s = readText(file)
  if (s === null) return null
  const t = s.trim()
  if (t === 'max') return Infinity
  const n = Number(t)
  return t !== '' && Number.isFinite(n) ? n : null
}

function statValue(dir, key) {
  const s = readText(path.join(dir, 'memory.stat'))
  const m = s && new RegExp(`^${key} (\\d+)$`, 'm').exec(s)
  return m ? Number(m[1]) : null
}

function isDir(p) {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

function bytes(n) {
  if (n >= 1e12) return `${(n / 1e12).toFixed(1)} TB`
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`
  if (n >= 1e6) return `${Math.round(n / 1e6)} MB`
  if (n >= 1e3) return `${Math.round(n / 1e3)} KB`
  return `${n} B`
}

module.exports = {
  snapshotRoom,
  noteCapture,
  cgroupRoom,
  SNAPSHOT_BYTES_PER_OBJECT,
  DEFAULT_OBJECT_SIZE,
  SYSTEM,
  formatBytes: bytes,
}
