'use strict'
// Suspects and top retainers name their source: `location: { url, line, column }` (1-based, as a
// stack trace and the sampling profiler's call frames + 1) for closures and class instances, on
// real snapshots of a child process, in both schedules of the analysis (names kept in memory,
// names on the temporary file during the dominator pass).
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const leakprobe = require('..')

const FIXTURE = path.join(__dirname, 'fixtures', 'location-leaks.js')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-locations-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

// V8's position of a function: its line, and the column of the '(' opening its parameters
function positionOf(marker) {
  const lines = fs.readFileSync(FIXTURE, 'utf8').split('\n')
  const i = lines.findIndex((l) => l.includes(marker))
  assert.ok(i >= 0, `${marker} in the fixture`)
  return { line: i + 1, column: lines[i].indexOf('(', lines[i].indexOf(marker)) + 1 }
}

// The child leaks closures (one kept series of snapshots) then class instances (another), and
// reports where V8's sampling heap profiler puts the same two functions.
function leakySeries() {
  const script = `
    const lp = require(${JSON.stringify(path.join(__dirname, '..'))})
    const fx = require(${JSON.stringify(FIXTURE)})
    const inspector = require('node:inspector')
    const session = new inspector.Session()
    session.connect()
    const post = (m, p) => new Promise((ok, no) => session.post(m, p, (e, r) => (e ? no(e) : ok(r))))
    async function sampledFrames() {
      await post('HeapProfiler.enable')
      await post('HeapProfiler.startSampling', { samplingInterval: 16 })
      for (let i = 0; i < 2000; i++) { new fx.RequestContext(-i); fx.makeJob(-i)(i) }
      const { profile } = await post('HeapProfiler.stopSampling')
      await post('HeapProfiler.disable')
      const frames = {}
      for (const stack = [profile.head]; stack.length;) {
        const n = stack.pop()
        frames[n.callFrame.functionName] = n.callFrame
        stack.push(...n.children)
      }
      return { onJobDone: frames.onJobDone, RequestContext: frames.RequestContext }
    }
    ;(async () => {
      const sampled = await sampledFrames()
      session.disconnect()
      const jobs = await lp.check(fx.leakJobs, { dir: ${JSON.stringify(path.join(tmp, 'jobs'))}, keep: true, rounds: 2 })
      const contexts = await lp.check(fx.leakContexts, { dir: ${JSON.stringify(path.join(tmp, 'contexts'))}, keep: true, rounds: 2 })
      process.stdout.write(JSON.stringify({ sampled, jobs: jobs.files, contexts: contexts.files }))
    })().catch((e) => { console.error(e); process.exit(1) })`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

// the two schedules, chosen by the environment the native call reads when it starts
const DISK = fs.existsSync(path.join(__dirname, '..', 'target')) ? path.join(__dirname, '..', 'target') : tmp
const SCHEDULES = {
  memory: { LEAKPROBE_SPILL: 'off' },
  'names on disk': { LEAKPROBE_SPILL: DISK, LEAKPROBE_SPILL_MIN_MB: '0' },
}
async function withEnv(env, fn) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

let series
const run = () => (series ??= leakySeries())

test('compare(): a leaked closure group names the function that made it, 1-based', async () => {
  const { jobs, sampled } = run()
  const at = positionOf('function onJobDone(')
  for (const [schedule, env] of Object.entries(SCHEDULES)) {
    const c = await withEnv(env, () => leakprobe.compare(...jobs))
    const top = c.suspects[0]
    assert.equal(top.name, 'onJobDone()', `${schedule}: ${JSON.stringify(c.suspects.slice(0, 3))}`)
    assert.equal(c.leak, true)
    assert.ok(top.location, `${schedule}: no location on ${JSON.stringify(top)}`)
    assert.ok(top.location.url.endsWith(path.join('fixtures', 'location-leaks.js')), top.location.url)
    assert.deepEqual({ line: top.location.line, column: top.location.column }, at, schedule)
    // the same place the sampling profiler gives (0-based there)
    const f = sampled.onJobDone
    assert.deepEqual(top.location, { url: f.url, line: f.lineNumber + 1, column: f.columnNumber + 1 })
    assert.deepEqual(Object.keys(top.location), ['url', 'line', 'column'])
  }
})

test('compare(): leaked class instances point at their class constructor', async () => {
  const { contexts, sampled } = run()
  const at = positionOf('constructor(id)')
  for (const [schedule, env] of Object.entries(SCHEDULES)) {
    const c = await withEnv(env, () => leakprobe.compare(...contexts))
    const top = c.suspects[0]
    assert.equal(top.name, 'RequestContext', `${schedule}: ${JSON.stringify(c.suspects.slice(0, 3))}`)
    assert.equal(top.location.url, FIXTURE)
    assert.deepEqual({ line: top.location.line, column: top.location.column }, at, schedule)
    const f = sampled.RequestContext
    assert.deepEqual(top.location, { url: f.url, line: f.lineNumber + 1, column: f.columnNumber + 1 })
    // suspects V8 gave no location (plain objects, strings, arrays) have no key at all
    for (const s of c.suspects) {
      if (/^(\{.*\}|\(string\)|Array|\(concatenated string\))$/.test(s.name)) assert.ok(!('location' in s), JSON.stringify(s))
    }
  }
})

test('analyze(): top retainers that are class instances or closures carry their location', async () => {
  const { jobs } = run()
  const reports = {}
  for (const [schedule, env] of Object.entries(SCHEDULES)) {
    const r = await withEnv(env, () => leakprobe.analyze(jobs[2], { top: 300, paths: 3 }))
    const queue = r.top.find((t) => t.name === 'JobQueue')
    assert.ok(queue, `${schedule}: JobQueue in the top 300`)
    assert.deepEqual(queue.location, { url: FIXTURE, ...positionOf('constructor()') }, schedule)
    // not every node has a place: strings and arrays never do, and have no key
    const bare = r.top.filter((t) => t.type === 'string' || t.type === 'array')
    assert.ok(bare.length > 0)
    for (const t of bare) assert.ok(!('location' in t), JSON.stringify(t))
    // functions from Node's own code: node:internal/… URLs
    assert.ok(r.top.some((t) => t.type === 'closure' && t.location && t.location.url.startsWith('node:')),
      JSON.stringify(r.top.filter((t) => t.type === 'closure').slice(0, 5)))
    delete r.timings
    reports[schedule] = r
  }
  assert.deepEqual(reports.memory, reports['names on disk'], 'both schedules give the same report')
})

test('text and HTML: `at url:line:column` beside suspects and top retainers', async () => {
  const { jobs } = run()
  const c = await leakprobe.compare(...jobs)
  const { line, column } = positionOf('function onJobDone(')
  const rel = path.relative(process.cwd(), FIXTURE)
  const text = leakprobe.format(c)
  assert.ok(text.includes(`onJobDone() at ${rel}:${line}:${column}`), text)
  assert.match(text.split('\n').find((l) => /^1 /.test(l)), new RegExp(`onJobDone\\(\\).*at ${rel.replace(/[.\\/]/g, '\\$&')}:${line}:${column}$`))
  const r = await leakprobe.analyze(jobs[2], { top: 300, paths: 0 })
  const report = leakprobe.format(r)
  const queue = positionOf('constructor()')
  assert.match(report, new RegExp(`JobQueue @\\d+ \\(object\\) +at ${rel.replace(/[.\\/]/g, '\\$&')}:${queue.line}:${queue.column}`))
  const html = leakprobe.renderHtml({ report: r, comparison: c })
  assert.ok(html.includes(`<code class="loc" title="${FIXTURE}:${line}:${column}">${rel}:${line}:${column}</code>`), 'suspect location in the page')
  assert.ok(html.includes(`<code class="loc" title="${FIXTURE}:${queue.line}:${queue.column}">`), 'top node location in the page')
})

test('text and HTML: URLs shortened, escaped, and nothing shown without a location', () => {
  const { shortUrl, locationText } = require('../lib/format')
  const cwd = path.join(path.sep, 'srv', 'app')
  assert.equal(shortUrl('/srv/app/lib/jobs.js', { cwd }), path.join('lib', 'jobs.js'))
  assert.equal(shortUrl('file:///srv/app/lib/jobs.mjs', { cwd }), path.join('lib', 'jobs.mjs'))
  assert.equal(shortUrl('/opt/other/server.js', { cwd }), '/opt/other/server.js')
  assert.equal(shortUrl('node:internal/timers', { cwd }), 'node:internal/timers')
  const deep = '/opt/' + 'very-long-directory-name/'.repeat(6) + 'node_modules/socket.io/dist/socket.js'
  const short = shortUrl(deep, { cwd, width: 50 })
  assert.ok(short.length <= 50 && short.startsWith('…/') && short.endsWith('socket.io/dist/socket.js'), short)
  assert.equal(locationText({ url: '', line: 4, column: 5 }), '(unnamed script):4:5')
  assert.equal(locationText(undefined), '')
  const comparison = {
    format: 'leakprobe-compare/1', leak: true, growth: { bytes: 1, objects: 1 },
    snapshots: [{ role: 'baseline', nodes: 1, totalBytes: 1 }, { role: 'target', nodes: 2, totalBytes: 2 }],
    threshold: { bytes: 1, count: 1 }, timings: { parseMs: 1, analyzeMs: 1 }, classes: [],
    suspects: [
      { name: 'onTick()', count: 3, selfSize: 96, retainedSize: 96, holder: { id: 1, name: 'Socket', edge: 'acks' }, path: [], sampleIds: [], counts: [0, 3], growing: true, vmHeld: false, leak: true,
        location: { url: '/srv/<script>.js', line: 7, column: 9 } },
      { name: 'Object', count: 2, selfSize: 64, retainedSize: 64, holder: { id: 1, name: 'Socket', edge: 'x' }, path: [], sampleIds: [], counts: [0, 2], growing: true, vmHeld: false, leak: false },
    ],
  }
  const html = leakprobe.renderHtml({ comparison })
  assert.ok(!html.includes('<script>.js') && html.includes('/srv/&lt;script&gt;.js:7:9'))
  assert.equal(html.match(/class="loc"/g).length, 1, 'only the suspect with a location shows one')
  const text = leakprobe.format(comparison)
  assert.match(text, /^ {2}onTick\(\) at .*<script>\.js:7:9$/m)
  // without any location, no column for it
  const bare = leakprobe.format({ ...comparison, suspects: [comparison.suspects[1]], leak: false })
  assert.ok(!/defined|\bat /.test(bare.split('Suspects')[1]), bare)
})
