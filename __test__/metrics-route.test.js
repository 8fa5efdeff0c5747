'use strict'
// The fleet metrics without prom-client: the table's names and the Prometheus text format
// (escaping, bounded labels), and the admin route's GET /metrics under the route's rules.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { parse, find, value } = require('./helpers/prom-text')
const { inProcessRoutes } = require('./helpers/serve-route')
const { TOKEN } = require('./helpers/spawn-route')
const { DEFINITIONS, LABEL_MAX, siteLabels, clip } = require('../lib/metrics/definitions')
const { render, escapeLabel } = require('../lib/metrics/exposition')
const leakprobe = require('..')

const { serve } = inProcessRoutes('leakprobe-metrics-route-')
const auth = { authorization: `Bearer ${TOKEN}` }

test('metrics text: the format escapes label values and help, and labels are cut to a bounded length', () => {
  const def = { name: 'x_bytes', help: 'a \\ b\nc', type: 'gauge', labels: [{ name: 'function' }] }
  const text = render([{ def, samples: [{ labels: { function: 'a"b\\c\nd' }, value: 1 }, { labels: { function: 'n' }, value: NaN }] }])
  assert.equal(text, '# HELP x_bytes a \\\\ b\\nc\n# TYPE x_bytes gauge\nx_bytes{function="a\\"b\\\\c\\nd"} 1\nx_bytes{function="n"} NaN\n')
  assert.deepEqual(parse(text).samples.map((s) => s.labels.function), ['a"b\\c\nd', 'n'])
  assert.equal(escapeLabel('plain'), 'plain')
  const long = 'f'.repeat(500)
  const l = siteLabels({ fn: long, url: `file://${process.cwd()}/${'d/'.repeat(200)}x.js`, line: 12, package: null }, process.cwd())
  assert.equal(l.function.length, LABEL_MAX)
  assert.ok(l.function.endsWith('…'))
  assert.equal(l.location.length, LABEL_MAX)
  assert.ok(l.location.startsWith('…') && l.location.endsWith('d/x.js:12'), 'a location keeps its file and line')
  assert.equal(l.package, '')
  assert.equal(clip('short'), 'short')
  assert.deepEqual(siteLabels({ fn: '', url: '/elsewhere/a.js', line: 3, package: 'pkg' }, '/srv/app'), { function: '(anonymous)', location: '/elsewhere/a.js:3', package: 'pkg' })
  // every name of the table follows the conventions: units in the name, _total for the counter
  for (const d of DEFINITIONS) {
    assert.match(d.name, /^leakprobe_[a-z_]+$/)
    assert.match(d.otel, /^leakprobe(\.[a-z_]+)+$/)
    if (d.type === 'counter') assert.match(d.name, /_total$/)
    if (d.unit === 'By') assert.match(d.name, /_bytes$/)
    if (d.unit === 's') assert.match(d.name, /_seconds$/)
    assert.ok(d.help.length > 20 && d.help.endsWith('.'), d.name)
    // the OpenTelemetry name, as the Collector's Prometheus translation names it (dots to
    // underscores, the unit as a suffix, annotations in braces dropped, _total for a counter), is
    // the Prometheus name
    const UNIT = { By: 'bytes', s: 'seconds', 'By/h': 'bytes_per_hour', '': '', '{capture}': '' }
    assert.ok(d.unit in UNIT, `${d.name}: unit ${d.unit}`)
    const translated = [d.otel.replace(/\./g, '_'), UNIT[d.unit], d.type === 'counter' ? 'total' : ''].filter(Boolean).join('_')
    assert.equal(translated, d.name)
  }
})

test('GET /metrics: Prometheus text under the route\'s token and address rules; without a monitor, a 404 saying what to pass', async (t) => {
  const m = leakprobe.monitor({ intervalMs: 60_000 })
  t.after(() => m.stop())
  const base = await serve({ monitor: m })
  assert.equal((await fetch(`${base}/metrics`)).status, 401)
  assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401)
  assert.equal((await fetch(`${base}/metrics`, { method: 'POST', headers: auth })).status, 405)
  const r = await fetch(`${base}/metrics`, { headers: auth })
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  assert.equal(r.headers.get('cache-control'), 'no-store')
  const p = parse(await r.text())
  // no floor before the first tick; no sites without sampling; every family has help and a type
  assert.equal(value(p, 'leakprobe_heap_floor_bytes'), undefined)
  assert.equal(find(p, 'leakprobe_site_live_bytes').length, 0)
  assert.equal(value(p, 'leakprobe_leak'), 0)
  for (const d of DEFINITIONS) assert.deepEqual(p.families.get(d.name), { help: d.help, type: d.type }, d.name)
  // the address rules: a route that allows only another address refuses loopback
  const elsewhere = await serve({ monitor: m, allow: '10.0.0.0/8' })
  const refused = await fetch(`${elsewhere}/metrics`, { headers: auth })
  assert.equal(refused.status, 403)
  assert.equal((await refused.json()).error.code, 'ERR_LEAKPROBE_FORBIDDEN')
  // no monitor: a JSON error naming what to pass
  const none = await serve({})
  const n = await fetch(`${none}/metrics`, { headers: auth })
  assert.equal(n.status, 404)
  const { error } = await n.json()
  assert.equal(error.code, 'ERR_LEAKPROBE_NO_MONITOR')
  assert.match(error.message, /pass `monitor: leakprobe\.monitor\(\)`/)
  assert.match(await (await fetch(`${base}/`, { headers: auth })).text(), /GET metrics/)
})
