'use strict'
// Allocation sites (lib/sites.js): folding a sampling profile into sites, and which sites are
// named as growing. Then real leak scenarios under monitor({ sampling }), each in a child.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { fold, SiteHistory, packageOf, keptRising } = require('../lib/sites')

const APP = '/srv/app/server.js'
const PKG = '/srv/app/node_modules/socket.io/dist/socket.js'
const OWN = path.join(__dirname, '..', 'lib', 'sampling.js')

let ids = 0
// node(name, url, line, selfSize, ...children): a profile node (0-based line, as V8 gives it)
function node(functionName, url, lineNumber, selfSize, ...children) {
  return { callFrame: { functionName, scriptId: '1', url, lineNumber, columnNumber: 4 }, selfSize, id: ++ids, children }
}
const profile = (...children) => ({ head: node('(root)', '', -1, 0, ...children), samples: [] })

test('fold: a site is the first frame that is not Node\'s own, with the app\'s caller of a package', () => {
  const p = profile(
    node('main', APP, 0, 0,
      // a listener array grown inside node:events belongs to the app's function that called .on()
      node('handle', APP, 9, 100, node('_addListener', 'node:events', 500, 50)),
      // socket.io's emitWithAck called from the app's notify(): one site, caller = notify
      node('notify', APP, 19, 0, node('emitWithAck', PKG, 229, 4096)),
      node('other', APP, 29, 0, node('emitWithAck', PKG, 229, 1024)),
    ),
    // all Node's own: the nearest frame with a script, not (V8 API)
    node('parserOnIncoming', 'node:_http_server', 1025, 0, node('(V8 API)', '', -1, 64)),
    // leakprobe's own allocations are not the app's
    node('_post', OWN, 85, 999),
  )
  const sites = [...fold(p).values()]
  const by = (fn, callerFn) => sites.filter((s) => s.fn === fn && (!callerFn || (s.caller && s.caller.fn === callerFn)))
  assert.equal(by('handle').length, 1)
  assert.equal(by('handle')[0].liveBytes, 150)
  assert.deepEqual([by('handle')[0].url, by('handle')[0].line, by('handle')[0].column, by('handle')[0].package], [APP, 10, 5, null])
  const ack = by('emitWithAck', 'notify')[0]
  assert.equal(ack.package, 'socket.io')
  assert.equal(ack.liveBytes, 4096)
  assert.deepEqual(ack.caller, { fn: 'notify', url: APP, line: 20, column: 5 })
  assert.equal(ack.stack[0], `emitWithAck (${PKG}:230:5)`)
  assert.equal(by('emitWithAck', 'other')[0].liveBytes, 1024, 'another caller is another site')
  assert.equal(by('parserOnIncoming').length, 1)
  assert.ok(!sites.some((s) => s.url === OWN), 'no site in leakprobe\'s own code')
  assert.equal(sites.length, 4)
})

test('fold: a call tree deeper than any recursion limit', () => {
  let leaf = node('deep', APP, 1, 10)
  for (let i = 0; i < 200_000; i++) leaf = node('deep', APP, 1, 0, leaf)
  const sites = fold(profile(leaf))
  assert.equal([...sites.values()][0].liveBytes, 10)
})

test('packageOf: scoped, nested and no package', () => {
  assert.equal(packageOf('/a/node_modules/@scope/pkg/lib/x.js'), '@scope/pkg')
  assert.equal(packageOf('file:///a/node_modules/x/node_modules/y/i.js'), 'y')
  assert.equal(packageOf('/a/b.js'), null)
})

const K = 1024
test('keptRising: steady growth is named; a burst, a filled cache and noise are not', () => {
  const I = 4 * K
  assert.ok(keptRising([0, 40, 80, 120, 160, 200].map((k) => k * K), I))
  assert.ok(!keptRising([0, 100, 200, 200, 10, 0].map((k) => k * K), I), 'a burst that is freed')
  assert.ok(!keptRising([0, 100, 200, 200, 200, 200, 200].map((k) => k * K), I), 'a cache that fills, then evicts')
  assert.ok(!keptRising([8, 12, 8, 16, 12, 20].map((k) => k * K), I), 'a few samples coming and going')
  assert.ok(!keptRising([0, 40, 80, 120, 30, 160].map((k) => k * K), I), 'fell back below half its best rise')
})

function history(series, { maxSites, intervalBytes = 4 * K, floor } = {}) {
  const h = new SiteHistory({ intervalBytes, maxSites })
  const n = Math.max(...Object.values(series).map((v) => v.length))
  for (let i = 0; i < n; i++) {
    const folded = new Map()
    for (const [name, v] of Object.entries(series)) {
      if (v[i] > 0) folded.set(name, { fn: name, url: APP, line: 1, column: 1, package: null, caller: null, stack: [], liveBytes: v[i] })
    }
    h.add({ time: i * 1000, pauseMs: 1, heapUsed: floor ? floor[i] : 50e6 + i * 1e6, sampledBytes: 0 }, folded)
  }
  return h
}

test('SiteHistory: growing sites ranked by their rise, with their share of the floor\'s rise', () => {
  const h = history({
    cache: [0, 1e6, 2e6, 2e6, 2e6, 2e6],
    leak: [0, 2e5, 4e5, 6e5, 8e5, 1e6],
    big: [0, 5e5, 1e6, 1.5e6, 2e6, 2.5e6],
    burst: [0, 3e6, 0, 0, 0, 0],
  })
  // native code with no script behind it rises too, but is nothing to fix: largest only
  const native = h.sites.get('big')
  h.sites.set('(V8 API)', { ...native, fn: '(V8 API)', url: '', series: native.series.map((v) => v * 2), liveBytes: 5e6 })
  const g = h.growing()
  assert.deepEqual(g.map((s) => s.fn), ['big', 'leak'])
  assert.deepEqual(g[0].growth, [0, 5e5, 1e6, 1.5e6, 2e6, 2.5e6])
  assert.equal(g[0].share, 0.5)
  assert.equal(g[0].liveBytes, 2.5e6)
  // the verdict over the last reads only
  assert.deepEqual(h.growing({ from: h.span(3000) }).map((s) => s.fn), ['big', 'leak'])
  assert.equal(h.span(10_000), 3, 'at least three reads even when the window holds fewer')
  assert.deepEqual(h.largest(2).map((s) => s.fn), ['(V8 API)', 'big'])
})

test('SiteHistory: memory is bounded by sites and reads, and the largest site stays', () => {
  const h = new SiteHistory({ intervalBytes: K, maxSites: 50, maxReads: 10 })
  for (let i = 0; i < 40; i++) {
    const folded = new Map()
    // a million distinct one-off sites would not grow it
    for (let j = 0; j < 500; j++) folded.set(`s${i}-${j}`, { fn: `f${j}`, url: APP, line: j, column: 1, package: null, caller: null, stack: [], liveBytes: 100 + j })
    folded.set('leak', { fn: 'leak', url: APP, line: 1, column: 1, package: null, caller: null, stack: [], liveBytes: 1e6 * (i + 1) })
    h.add({ time: i, pauseMs: 1, heapUsed: 1e8 + 1e6 * i, sampledBytes: 0 }, folded)
  }
  assert.ok(h.sites.size <= 50)
  assert.equal(h.reads.length, 10)
  assert.ok([...h.sites.values()].every((s) => s.series.length === 10))
  assert.equal(h.growing()[0].fn, 'leak')
})

// --- real servers -------------------------------------------------------------------------

const RUN = path.join(__dirname, 'scenarios', 'sites.js')
function sites(name, reads, intervalBytes, roundsPerRead = 1, warmup = 2) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [RUN, name, String(reads), String(intervalBytes), String(roundsPerRead), String(warmup)], { encoding: 'utf8', timeout: 90000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${name} failed: ${err.message}\n${stderr}`))
      resolve(JSON.parse(stdout))
    })
  })
}
const showSites = (s) => JSON.stringify(s.growing.map((x) => [x.fn, `${path.basename(x.url)}:${x.line}`, x.caller && `${path.basename(x.caller.url)}:${x.caller.line}`, x.share]))
// the scenario file's line where `fnText` starts (1-based), from the file's own text
function lineOf(name, text) {
  const src = require('node:fs').readFileSync(path.join(__dirname, 'scenarios', `${name}.js`), 'utf8')
  const i = src.indexOf(text)
  assert.ok(i >= 0, `${text} in ${name}.js`)
  return src.slice(0, i).split('\n').length
}

const SITE_CASES = [
  // the handler that fills the cache (directly, or through express's send)
  { name: 'express-cache', at: "app.get('/item/:id'" },
  { name: 'listener-per-request', at: 'http.createServer' },
  { name: 'timer-per-connection', at: "server.on('connection'" },
  { name: 'socketio-acks', at: 'async round()' },
  // the slow leak's array backing store is re-allocated as it grows (the old one freed): its
  // samples come and go, so one window in a few misses it; a monitor reads on, so two windows
  { name: 'slow-leak-churn', at: 'http.createServer', reads: 30, intervalBytes: 256, roundsPerRead: 4, windows: 2 },
]

for (const c of SITE_CASES) {
  test(`sites: the leak's line is named among the top 2: ${c.name}`, async () => {
    const file = path.join(__dirname, 'scenarios', `${c.name}.js`)
    const line = lineOf(c.name, c.at)
    const at = (f) => f && f.url === file && f.line === line
    let s
    let hit
    for (let w = 0; w < (c.windows || 1) && !hit; w++) {
      s = await sites(c.name, c.reads || 16, c.intervalBytes || 4096, c.roundsPerRead || 1)
      hit = s.growing.slice(0, 2).find((x) => at(x) || at(x.caller))
    }
    assert.ok(hit, `${c.name}.js:${line} in ${showSites(s)}`)
    assert.ok(hit.growth.length >= 3 && hit.growth[hit.growth.length - 1] > hit.growth[0])
    assert.ok(s.reads.every((r) => r.pauseMs >= 0 && r.heapUsed > 0))
  })
}

test('sites: a bounded LRU cache that evicts names nothing', async () => {
  // past the JIT's warm-up: V8 counts the code it installs as allocated by the JS function that
  // was running, so while hot functions still tier up their sites seem to grow. Over 12 rounds,
  // Node 22 named parserOnHeadersComplete in 1 run of 2 while snapshots of the same rounds showed
  // only (compiled code) growing; after 40, the heap is flat and nothing was named in 20 runs.
  // A monitor's window of hours makes nothing of it; a window of 16 reads can.
  const s = await sites('lru-control', 16, 4096, 1, 40)
  assert.deepEqual(s.growing, [], showSites(s))
})
