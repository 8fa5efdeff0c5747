'use strict'
// Deterministic, server-like heap of about N MB, for the benchmarks.
//   node --max-old-space-size=8000 benches/gen-heap.js --heap-mb 300 [--write out.heapsnapshot]
// As a module: require('./gen-heap').build(heapMb) fills globalThis.__benchHeap.
// No Math.random: a seeded PRNG, so the same N gives the same graph shape every run.

function prng(seed) {
  let s = seed >>> 0
  return () => { s = (s + 0x6D2B79F5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
}

class User { constructor(id, name, email) { this.id = id; this.name = name; this.email = email; this.roles = ['user'] } }
class Session { constructor(id, user, created) { this.id = id; this.user = user; this.created = created; this.data = new Map() } }
class Request { constructor(id, session, path) { this.id = id; this.session = session; this.path = path; this.headers = { 'user-agent': 'bench', accept: '*/*' }; this.onDone = () => this.id } }
class ListNode { constructor(value, next) { this.value = value; this.next = next } }
class TreeNode { constructor(depth) { this.depth = depth; this.children = [] } }

// One "unit" is roughly 7 KB of live heap in Node 20.
function unit(rnd, i, heap) {
  const user = new User(i, ['user', i].join('-'), `u${i}@example.com`)
  const session = new Session('s' + i, user, 1700000000000 + i)
  for (let j = 0; j < 8; j++) session.data.set('k' + j, { value: j, label: 'label-' + (i % 97), at: i * 8 + j })
  const reqs = []
  for (let j = 0; j < 12; j++) reqs.push(new Request(i * 12 + j, session, '/api/items/' + ((i * 12 + j) % 1000)))
  heap.sessions.set(session.id, session)
  heap.requests.push(...reqs)
  heap.users.add(user)
  if (i % 5 === 0) heap.buffers.push(Buffer.alloc(256 + Math.floor(rnd() * 512), i & 255))
  if (i % 3 === 0) heap.closures.push(((captured) => () => captured.length)(new Array(16).fill(i)))
  if (i % 7 === 0) heap.weak.set(user, { note: 'weak value ' + i })
  heap.cache[`entry:${i}`] = { body: 'x'.repeat(64 + (i % 128)), status: 200, headers: { 'content-type': 'application/json' } }
}

function build(heapMb) {
  const rnd = prng(42)
  const heap = globalThis.__benchHeap = {
    sessions: new Map(), requests: [], users: new Set(), buffers: [], closures: [], weak: new WeakMap(), cache: {}, lists: [], trees: [],
  }
  const units = Math.max(1, Math.round(heapMb * 143)) // ~7 KB of heap per unit
  for (let i = 0; i < units; i++) unit(rnd, i, heap)
  // deep structures: a long linked list per 100 MB, and a few deep trees with cycles
  for (let l = 0; l < Math.max(1, Math.round(heapMb / 100)); l++) {
    let head = null
    for (let i = 0; i < 200000; i++) head = new ListNode(i, head)
    heap.lists.push(head)
  }
  for (let t = 0; t < 4; t++) {
    const root = new TreeNode(0)
    let level = [root]
    for (let d = 1; d < 8; d++) {
      const next = []
      for (const n of level) for (let c = 0; c < 3; c++) { const k = new TreeNode(d); k.parent = n; n.children.push(k); next.push(k) }
      level = next
    }
    heap.trees.push(root)
  }
  return heap
}

module.exports = { build }

if (require.main === module) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt }
  const mb = Number(arg('--heap-mb', '300'))
  const out = arg('--write')
  const t = Date.now()
  build(mb)
  global.gc && global.gc()
  const used = process.memoryUsage().heapUsed
  console.error(`built ~${mb} MB target: heapUsed ${(used / 1048576).toFixed(0)} MB in ${Date.now() - t} ms`)
  if (out) {
    const t2 = Date.now()
    require('node:v8').writeHeapSnapshot(out)
    console.error(`wrote ${out}: ${(require('node:fs').statSync(out).size / 1048576).toFixed(0)} MB in ${Date.now() - t2} ms`)
  }
}
