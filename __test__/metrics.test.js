'use strict'
// leakprobe.metrics(): the monitor's leak signals through the real prom-client and OpenTelemetry
// SDK, in child express apps under a leaking and a steady load (fixtures/metrics-app.js), the
// cardinality bound under a million distinct strings, the route's dependency-free GET /metrics
// agreeing with prom-client, and leakprobe without the optional peers installed.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { parse, find, value, canonical } = require('./helpers/prom-text')
const { traffic } = require('./scenarios/http-util')
const { DEFINITIONS, LABEL_MAX } = require('../lib/metrics/definitions')

const ROOT = path.join(__dirname, '..')
const APP = path.join(__dirname, 'fixtures', 'metrics-app.js')
const TOKEN = 'tok-0123456789abcdef-metrics'
const H = { authorization: `Bearer ${TOKEN}` }
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-metrics-'))
const children = []
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  fs.rmSync(tmp, { recursive: true, force: true })
})

// the fixture app in a child process; resolves once it listens
function startApp(mode) {
  // without TurboFan's inlining, remember() stays a frame of its own (see sites.js)
  const child = spawn(process.execPath, ['--no-turbo-inlining', APP, mode], { env: { ...process.env, LEAKPROBE_TOKEN: TOKEN, LEAKPROBE_DIR: path.join(tmp, mode) }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => {
      const port = JSON.parse(String(d)).port
      const base = `http://127.0.0.1:${port}`
      resolve({
        port,
        base,
        stderr: () => stderr,
        prom: async () => {
          const r = await fetch(`${base}/metrics`)
          assert.equal(r.status, 200)
          return parse(await r.text())
        },
        route: async () => {
          const r = await fetch(`${base}/_leakprobe/metrics`, { headers: H })
          assert.equal(r.status, 200, await r.clone().text())
          assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
          return parse(await r.text())
        },
        otel: async () => {
          const body = await (await fetch(`${base}/otel`)).json()
          assert.deepEqual(body.errors, [])
          return body.metrics
        },
        stop: () => new Promise((r) => { if (child.exitCode !== null) return r(); child.on('exit', r); child.kill('SIGTERM') }),
      })
    })
    child.on('exit', (code) => reject(new Error(`the app exited with ${code}: ${stderr}`)))
  })
}

const REMEMBER_LINE = (() => {
  const src = fs.readFileSync(APP, 'utf8')
  return src.slice(0, src.indexOf('function remember')).split('\n').length
})()
const REMEMBER = { function: 'remember', location: `__test__/fixtures/metrics-app.js:${REMEMBER_LINE}` }

// OpenTelemetry data points as Prometheus-named samples, through the table's name and label maps
function otelAsProm(metrics) {
  const byOtel = new Map(DEFINITIONS.map((d) => [d.otel, d]))
  const samples = []
  for (const m of metrics) {
    const def = byOtel.get(m.name)
    assert.ok(def, `an instrument of the table: ${m.name}`)
    assert.equal(m.unit, def.unit, m.name)
    assert.equal(m.description, def.help, m.name)
    assert.equal(m.type, def.type === 'counter' ? 'OBSERVABLE_COUNTER' : 'OBSERVABLE_GAUGE', m.name)
    for (const p of m.points) {
      const labels = {}
      for (const l of def.labels) if (p.attributes[l.otel] !== undefined) labels[l.name] = p.attributes[l.otel]
      assert.equal(Object.keys(labels).length, Object.keys(p.attributes).length, `only the table's attributes: ${JSON.stringify(p.attributes)}`)
      samples.push({ name: def.name, labels, value: p.value })
    }
  }
  return { samples }
}

test('metrics: a leaking express app — prom-client over HTTP and the OpenTelemetry SDK see the leak, the floor and the site rise', async (t) => {
  const app = await startApp('leak')
  t.after(app.stop)
  const first = await app.prom()
  assert.equal(value(first, 'leakprobe_leak'), 0, 'no leak before any load')
  assert.equal(value(first, 'leakprobe_leak_start_time_seconds'), 0)
  assert.ok(value(first, 'leakprobe_heap_limit_bytes') > 0)
  assert.ok(first.families.get('leakprobe_heap_floor_bytes').help.startsWith('Post-GC heap floor'))
  assert.equal(first.families.get('leakprobe_captures_total').type, 'counter')

  // bounded load: rounds of 300 requests, a scrape after each, until the leak gauge is 1 and
  // the leaking site is named as growing (at most 120 rounds, ~36,000 requests)
  let id = 0
  const scrapes = [first]
  let last
  for (let round = 0; ; round++) {
    await traffic(app.port, Array.from({ length: 300 }, () => `/item/${id++}`))
    last = await app.prom()
    scrapes.push(last)
    if (value(last, 'leakprobe_leak') === 1 && value(last, 'leakprobe_site_growing', REMEMBER) === 1) break
    assert.ok(round < 120, `no leak after ${id} requests: ${JSON.stringify(canonical(last).filter((l) => !/captures/.test(l)))}\n${app.stderr()}`)
  }
  // while the app keeps leaking, the leak stays raised (the same episode)
  const started = value(last, 'leakprobe_leak_start_time_seconds')
  for (let round = 0; round < 5; round++) {
    await traffic(app.port, Array.from({ length: 300 }, () => `/item/${id++}`))
    last = await app.prom()
    scrapes.push(last)
    assert.equal(value(last, 'leakprobe_leak'), 1, `round ${round} after the leak: ${JSON.stringify(canonical(last).slice(0, 6))}`)
    assert.equal(value(last, 'leakprobe_leak_start_time_seconds'), started)
  }
  assert.ok(started > Date.now() / 1000 - 600 && started <= Date.now() / 1000, String(started))
  assert.equal(value(last, 'leakprobe_heap_floor_growing'), 1)
  assert.ok(value(last, 'leakprobe_heap_floor_growth_bytes_per_hour') > 0)
  // the floor rose from the first scrape with one to the last
  const floors = scrapes.map((s) => value(s, 'leakprobe_heap_floor_bytes')).filter((v) => v !== undefined)
  assert.ok(floors[floors.length - 1] > floors[0] + (2 << 20), floors.join(' '))
  // the site's live bytes rose, under bounded labels naming the function, its file:line, no package
  const site = scrapes.map((s) => value(s, 'leakprobe_site_live_bytes', REMEMBER)).filter((v) => v !== undefined)
  assert.ok(site.length >= 2 && site[site.length - 1] > site[0], site.join(' '))
  assert.equal(find(last, 'leakprobe_site_live_bytes', REMEMBER)[0].labels.package, '')
  assert.ok(find(last, 'leakprobe_site_live_bytes').length <= 5, 'at most `sites` sites')
  assert.deepEqual(find(last, 'leakprobe_site_growing').map((s) => s.labels), find(last, 'leakprobe_site_live_bytes').map((s) => s.labels))

  // the same state, frozen: prom-client, the route's own text and the OpenTelemetry SDK agree
  // on every series (the route shows up to 10 sites, the others 5)
  await fetch(`${app.base}/freeze`, { method: 'POST' })
  const frozen = await app.prom()
  const routeText = await app.route()
  const otel = otelAsProm(await app.otel())
  const noSites = (lines) => lines.filter((l) => !l.startsWith('leakprobe_site_'))
  assert.deepEqual(canonical(otel), canonical(frozen))
  assert.deepEqual(noSites(canonical(routeText)), noSites(canonical(frozen)))
  assert.equal(value(routeText, 'leakprobe_site_live_bytes', REMEMBER), value(frozen, 'leakprobe_site_live_bytes', REMEMBER))
  assert.equal(value(frozen, 'leakprobe_leak'), 1)
  assert.equal(value(frozen, 'leakprobe_leak_start_time_seconds'), started)
})

test('metrics: a steady express app — the leak gauge stays 0 under the same load, and the site is not growing', async (t) => {
  const app = await startApp('steady')
  t.after(app.stop)
  let id = 0
  let last
  // the ring fills in a first round; the monitor's window (30 polls of 100 ms) is then waited
  // out, so that the fill is not part of the rise it judges
  await traffic(app.port, Array.from({ length: 300 }, () => `/item/${id++}`))
  await new Promise((resolve) => setTimeout(resolve, 3500))
  // the leaking app's load, in the same rounds
  for (let round = 0; round < 25; round++) {
    await traffic(app.port, Array.from({ length: 300 }, () => `/item/${id++}`))
    last = await app.prom()
    assert.equal(value(last, 'leakprobe_leak'), 0, `round ${round}: ${JSON.stringify(canonical(last).slice(0, 12))}`)
    assert.equal(value(last, 'leakprobe_leak_start_time_seconds'), 0)
  }
  assert.ok(value(last, 'leakprobe_heap_floor_bytes') > 0)
  // over the window, all after the fill, its site is not growing
  assert.notEqual(value(last, 'leakprobe_site_growing', REMEMBER), 1, JSON.stringify(find(last, 'leakprobe_site_growing')))
  assert.ok(value(last, 'leakprobe_site_live_bytes', REMEMBER) > 0, 'the site is there, with its bytes')
  const otel = otelAsProm(await app.otel())
  assert.equal(value(otel, 'leakprobe_leak'), 0)
  assert.ok(find(otel, 'leakprobe_captures_total').length === 11 && find(otel, 'leakprobe_captures_total').every((s) => s.value === 0))
})

test('metrics: a leak of a million distinct strings from 500 functions gives a bounded number of series, none carrying the strings', async (t) => {
  const app = await startApp('strings')
  t.after(app.stop)
  // 500 requests × 2,000 strings, each request's from another of 500 generated functions
  await traffic(app.port, Array.from({ length: 500 }, () => '/strings/2000'), 2)
  const total = (await (await fetch(`${app.base}/strings/1`)).json()).strings
  assert.ok(total >= 1_000_000, String(total))
  // until a profile read after the load has the generated sites (bounded: 20 s)
  const until = Date.now() + 20_000
  let prom
  let route
  for (;;) {
    prom = await app.prom()
    route = await app.route()
    const sites = find(route, 'leakprobe_site_live_bytes')
    if (sites.length === 10 && sites.filter((s) => /^gen\d+$/.test(s.labels.function)).length >= 5) break
    assert.ok(Date.now() < until, JSON.stringify(find(route, 'leakprobe_site_live_bytes')))
    await new Promise((r) => setTimeout(r, 100))
  }
  // one series per fixed metric, 11 capture outcomes, the sites (5 for prom-client and OTel, 10 for the route)
  const fixed = DEFINITIONS.filter((d) => !d.name.startsWith('leakprobe_site_') && d.name !== 'leakprobe_captures_total' && d.name !== 'leakprobe_top_suspect_retained_bytes' && !d.name.startsWith('leakprobe_last_capture')).length
  const bound = (sites) => fixed + 11 + 1 + 2 + 2 * sites
  assert.ok(prom.samples.length <= bound(5), `${prom.samples.length} series`)
  assert.ok(route.samples.length <= bound(10), `${route.samples.length} series`)
  const otel = otelAsProm(await app.otel())
  assert.ok(otel.samples.length <= bound(5), `${otel.samples.length} series`)
  for (const parsed of [prom, route, otel]) {
    assert.equal(find(parsed, 'leakprobe_site_live_bytes').length, find(parsed, 'leakprobe_site_growing').length)
    for (const s of parsed.samples) {
      for (const v of Object.values(s.labels)) {
        assert.doesNotMatch(v, /distinct-/, 'no label carries a string from the heap')
        assert.ok(v.length <= LABEL_MAX)
      }
    }
  }
  const sites = find(route, 'leakprobe_site_live_bytes')
  assert.equal(sites.length, 10)
  assert.ok(sites.every((s) => /^__test__\/fixtures\/generated\/gen\d+\.js:1$/.test(s.labels.location) || !/^gen/.test(s.labels.function)), JSON.stringify(sites.map((s) => s.labels)))
})

function runChild(body, args = []) {
  const script = `const lp = require(${JSON.stringify(ROOT)});\n${body}`
  return spawnSync(process.execPath, [...args, '-e', script], { encoding: 'utf8', timeout: 60000, cwd: tmp })
}

test('metrics: the captures by outcome and reason, the last capture\'s timings and the top suspect of a monitor that captures', () => {
  const dir = path.join(tmp, 'captures')
  const r = runChild(`
    const prom = require(${JSON.stringify(require.resolve('prom-client'))})
    const { metricsText } = require(${JSON.stringify(path.join(ROOT, 'lib', 'metrics', 'exposition'))})
    const hoard = []
    const m = lp.monitor({ intervalMs: 40, window: 6, growthSteps: 2, minGrowth: 1 << 20, gc: true, capture: { dir: ${JSON.stringify(dir)} } })
    const registry = new prom.Registry()
    lp.metrics(m, { prometheus: registry })
    m.on('stats', () => { for (let i = 0; i < 3000; i++) hoard.push({ payload: 'x'.repeat(100) + i }) })
    m.on('leak', async (e) => {
      m.stop()
      process.stdout.write(JSON.stringify({ prom: await registry.metrics(), text: metricsText(m), comparison: Boolean(e.comparison) }))
    })
    setTimeout(() => { console.error('no leak event'); process.exit(5) }, 30000).unref()
    const keep = setInterval(() => { if (!m.running) clearInterval(keep) }, 20)
  `, ['--expose-gc'])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.comparison, true)
  const prom = parse(out.prom)
  assert.deepEqual(canonical(parse(out.text)), canonical(prom), 'the route\'s text and prom-client agree')
  assert.equal(value(prom, 'leakprobe_captures_total', { outcome: 'taken', reason: 'growth' }), 1)
  assert.equal(value(prom, 'leakprobe_captures_total', { outcome: 'taken', reason: 'leak' }), 1)
  assert.equal(find(prom, 'leakprobe_captures_total').reduce((a, s) => a + s.value, 0), 2)
  assert.ok(find(prom, 'leakprobe_captures_total').every((s) => ['taken', 'skipped', 'failed'].includes(s.labels.outcome)))
  const duration = value(prom, 'leakprobe_last_capture_duration_seconds')
  const blocked = value(prom, 'leakprobe_last_capture_blocked_seconds')
  assert.ok(duration > 0 && blocked > 0 && blocked <= duration, `${duration} ${blocked}`)
  const suspect = find(prom, 'leakprobe_top_suspect_retained_bytes')
  assert.equal(suspect.length, 1)
  assert.deepEqual(Object.keys(suspect[0].labels).sort(), ['class', 'holder'])
  assert.equal(suspect[0].labels.class, '{payload}')
  assert.match(suspect[0].labels.holder, /^\S.*\.hoard$/, 'the holder and the edge that keeps it')
  assert.ok(suspect[0].value > 0)
  assert.equal(value(prom, 'leakprobe_leak'), 1)
})

test('metrics: the monitor is read at scrape time only, once per scrape of a whole registry', () => {
  const r = runChild(`
    const prom = require(${JSON.stringify(require.resolve('prom-client'))})
    const m = lp.monitor({ intervalMs: 60000, sampling: true })
    let reads = 0
    const sites = m.sites.bind(m)
    m.sites = (o) => { reads++; return sites(o) }
    const registry = new prom.Registry()
    prom.collectDefaultMetrics({ register: registry })
    lp.metrics(m, { prometheus: registry })
    const out = {}
    setTimeout(async () => {
      out.idle = reads
      await registry.metrics()
      out.one = reads
      await Promise.all([registry.metrics(), registry.getMetricsAsJSON()])
      out.two = reads
      m.stop()
      process.stdout.write(JSON.stringify(out))
    }, 200)
  `)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { idle: 0, one: 1, two: 2 })
})

test('metrics: arguments are checked; a second metrics() on one registry is refused; stop() unregisters', () => {
  const r = runChild(`
    const prom = require(${JSON.stringify(require.resolve('prom-client'))})
    const { MeterProvider } = require(${JSON.stringify(require.resolve('@opentelemetry/sdk-metrics'))})
    ;(async () => {
    const m = lp.monitor({ intervalMs: 60000 })
    const codes = []
    const t = (f) => { try { f(); codes.push('ok') } catch (e) { codes.push(e.code + ': ' + e.message) } }
    t(() => lp.metrics({}, { prometheus: new prom.Registry() }))
    t(() => lp.metrics(m))
    t(() => lp.metrics(m, {}))
    t(() => lp.metrics(m, { prometheus: new prom.Registry(), openTelemetry: {} }))
    t(() => lp.metrics(m, { prometheus: new prom.Registry(), sites: 101 }))
    t(() => lp.metrics(m, { prometheus: {} }))
    t(() => lp.metrics(m, { openTelemetry: { createObservableGauge() {} } }))
    const reg = new prom.Registry()
    const h = lp.metrics(m, { prometheus: reg })
    t(() => lp.metrics(m, { prometheus: reg }))
    const names = reg.getMetricsAsArray().map((x) => x.name)
    h.stop()
    const after = reg.getMetricsAsArray().length
    const again = lp.metrics(m, { prometheus: reg })
    again.close()
    // an OpenMetrics registry renames the counter when scraped; stop() still removes it
    const om = new prom.Registry(prom.openMetricsContentType)
    const h2 = lp.metrics(m, { prometheus: om })
    const omText = await om.metrics()
    h2.stop()
    const omAfter = om.getMetricsAsArray().length
    // the default registry
    const d = lp.metrics(m, { prometheus: true })
    const inDefault = prom.register.getSingleMetric('leakprobe_leak') !== undefined
    d.stop()
    // OpenTelemetry: after stop() the callback is gone (no more reads of the monitor)
    const provider = new MeterProvider()
    const meter = provider.getMeter('t')
    let adds = 0
    let removes = 0
    const add = meter.addBatchObservableCallback.bind(meter)
    const remove = meter.removeBatchObservableCallback.bind(meter)
    meter.addBatchObservableCallback = (cb, list) => { adds += list.length; add(cb, list) }
    meter.removeBatchObservableCallback = (cb, list) => { removes += list.length; remove(cb, list) }
    const o = lp.metrics(m, { openTelemetry: meter })
    o.stop()
    o.stop()
    m.stop()
    process.stdout.write(JSON.stringify({ codes, names, after, omText, omAfter, inDefault, stillDefault: prom.register.getSingleMetric('leakprobe_leak') !== undefined, adds, removes, otelNames: o.names }))
    })().catch((e) => { console.error(e); process.exit(3) })
  `)
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  const [notMonitor, noOptions, neither, both, tooMany, notRegistry, notMeter, twice] = out.codes
  assert.match(notMonitor, /^ERR_LEAKPROBE_INVALID_ARG: .*must be a monitor from leakprobe\.monitor\(\)/)
  assert.match(noOptions, /^ERR_LEAKPROBE_INVALID_ARG: .*\{ prometheus: registry \} or \{ openTelemetry: meter \}/)
  assert.match(neither, /^ERR_LEAKPROBE_INVALID_ARG: .*pass one of/)
  assert.match(both, /^ERR_LEAKPROBE_INVALID_ARG: .*pass one of/)
  assert.match(tooMany, /^ERR_LEAKPROBE_INVALID_ARG: .*`sites`.*0 to 100/)
  assert.match(notRegistry, /^ERR_LEAKPROBE_INVALID_ARG: .*`prometheus` must be a prom-client Registry/)
  assert.match(notMeter, /^ERR_LEAKPROBE_INVALID_ARG: .*`openTelemetry` must be an @opentelemetry\/api Meter/)
  assert.match(twice, /^ERR_LEAKPROBE_INVALID_ARG: .*already has a metric named leakprobe_heap_floor_bytes/)
  assert.deepEqual(out.names, DEFINITIONS.map((d) => d.name))
  assert.equal(out.after, 0, 'stop() removed every metric')
  assert.match(out.omText, /^leakprobe_captures_total\{outcome="taken",reason="growth"\} 0$/m)
  assert.match(out.omText, /^# TYPE leakprobe_captures counter$/m)
  assert.equal(out.omAfter, 0, 'stop() removed every metric of an OpenMetrics registry')
  assert.equal(out.inDefault, true)
  assert.equal(out.stillDefault, false)
  assert.equal(out.adds, DEFINITIONS.length)
  assert.equal(out.removes, DEFINITIONS.length, 'removed once')
  assert.deepEqual(out.otelNames, DEFINITIONS.map((d) => d.otel))
})

test('metrics: without prom-client or @opentelemetry/api installed, leakprobe loads and serves GET /metrics; asking for them is ERR_LEAKPROBE_MISSING_PEER', () => {
  // a process where the peers cannot be resolved from anywhere, as in an app without them
  const preload = path.join(tmp, 'no-peers.js')
  fs.writeFileSync(preload, `
    const Module = require('node:module')
    const resolve = Module._resolveFilename
    Module._resolveFilename = function (request, ...rest) {
      if (/^(prom-client|@opentelemetry\\/api)(\\/|$)/.test(request)) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' })
      return resolve.call(this, request, ...rest)
    }
  `)
  const r = runChild(`
    const http = require('node:http')
    const out = { exports: Object.keys(lp) }
    const m = lp.monitor({ intervalMs: 60000 })
    const t = (k, f) => { try { f(); out[k] = 'ok' } catch (e) { out[k] = { code: e.code, message: e.message } } }
    t('promRegistry', () => lp.metrics(m, { prometheus: {} }))
    t('promDefault', () => lp.metrics(m, { prometheus: true }))
    t('otelDefault', () => lp.metrics(m, { openTelemetry: true }))
    t('otelNotMeter', () => lp.metrics(m, { openTelemetry: {} }))
    const server = http.createServer(lp.handler({ token: 'tok-0123456789abcdef-nopeer', monitor: m, dir: ${JSON.stringify(path.join(tmp, 'nopeer'))} }))
    server.listen(0, '127.0.0.1', async () => {
      const r = await fetch('http://127.0.0.1:' + server.address().port + '/metrics', { headers: { authorization: 'Bearer tok-0123456789abcdef-nopeer' } })
      out.route = { status: r.status, text: await r.text() }
      out.loaded = Object.keys(require.cache).filter((f) => /prom-client|@opentelemetry/.test(f))
      server.close()
      m.stop()
      process.stdout.write(JSON.stringify(out))
    })
  `, ['-r', preload])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.ok(out.exports.includes('metrics') && out.exports.includes('monitor'))
  for (const k of ['promRegistry', 'promDefault']) {
    assert.equal(out[k].code, 'ERR_LEAKPROBE_MISSING_PEER', k)
    assert.match(out[k].message, /needs the `prom-client` package, an optional peer dependency of leakprobe that is not installed here: npm install prom-client/)
  }
  assert.equal(out.otelDefault.code, 'ERR_LEAKPROBE_MISSING_PEER')
  assert.match(out.otelDefault.message, /npm install @opentelemetry\/api/)
  // a meter of the app's own needs no package of ours: only the argument is wrong here
  assert.equal(out.otelNotMeter.code, 'ERR_LEAKPROBE_INVALID_ARG')
  assert.equal(out.route.status, 200)
  assert.match(out.route.text, /^leakprobe_leak 0$/m)
  assert.deepEqual(out.loaded, [])
})

test('require(\'leakprobe\') and monitor() load neither prom-client nor @opentelemetry/api', () => {
  const r = runChild(`
    const m = lp.monitor({ intervalMs: 60000, sampling: true })
    void lp.metrics
    m.stop()
    process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => /prom-client|@opentelemetry/.test(f))))
  `)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), [])
})
