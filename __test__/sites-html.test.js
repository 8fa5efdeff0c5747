'use strict'
// The HTML report's allocation-sites section (renderHtml({ sites })): names, escaping, sparklines.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const leakprobe = require('..')

const HOSTILE = '<img src=x onerror=alert(1)>'
const site = (fn, growth, extra = {}) => ({
  fn, url: 'file:///srv/app/server.js', line: 12, column: 5, package: null, caller: null,
  stack: [`${fn} (file:///srv/app/server.js:12:5)`, 'handle (file:///srv/app/server.js:40:3)'],
  liveBytes: growth[growth.length - 1], growth, ...extra,
})
const state = (growing, largest = growing) => ({
  running: true, intervalBytes: 524288,
  reads: [0, 1, 2, 3].map((i) => ({ time: 1_700_000_000_000 + i * 60_000, pauseMs: 12.5, heapUsed: 80e6 + i * 1e6, sampledBytes: 1e6, samples: 40 })),
  pauseMs: { last: 12.5, total: 50 }, nextReadAt: 1_700_000_240_000, growing, largest,
})

test('renderHtml({ sites }): each growing site with its place, package, caller, sparkline and stack', () => {
  const remember = site('remember', [1e6, 2e6, 3e6, 4e6], { share: 0.9 })
  const ack = site('emitWithAck', [1e5, 3e5, 5e5, 7e5], {
    url: '/srv/app/node_modules/socket.io/dist/socket.js', line: 230, column: 9, package: 'socket.io',
    caller: { fn: 'notify', url: '/srv/app/jobs.js', line: 20, column: 5 },
  })
  const html = leakprobe.renderHtml({ sites: state([remember, ack], [site('bigTable', [9e6, 9e6, 9e6, 9e6]), remember]) })
  assert.match(html, /^<!doctype html>/)
  assert.match(html, /<title>leakprobe: allocation sites<\/title>/)
  const section = html.slice(html.indexOf('<section id="sites">'), html.indexOf('</section>', html.indexOf('<section id="sites">')))
  assert.match(section, /Where the growing memory is allocated/)
  const growing = section.slice(0, section.indexOf('Largest allocation sites'))
  assert.match(growing, /<code>remember<\/code> <small>\/srv\/app\/server\.js:12:5<\/small>/)
  assert.match(growing, /<code>emitWithAck<\/code> <small>\/srv\/app\/node_modules\/socket\.io\/dist\/socket\.js:230:9<\/small> <span class="pkg">socket\.io<\/span>/)
  assert.match(growing, /called from <code>notify<\/code> at <code>\/srv\/app\/jobs\.js:20:5<\/code>/)
  assert.match(growing, /3\.81 MB live, \+2\.86 MB over 4 reads, 90% of the floor&#39;s rise/)
  assert.match(growing, /<li>handle \(file:\/\/\/srv\/app\/server\.js:40:3\)<\/li>/)
  assert.ok(!growing.includes('bigTable'), 'a large flat site is not among the growing ones')
  // one sparkline per growing site, one point per read, rising left to right
  const sparks = [...growing.matchAll(/<svg class="spark"[^>]*>.*?<polyline points="([^"]+)"\/>/g)].map((m) => m[1].split(' ').map((p) => p.split(',').map(Number)))
  assert.equal(sparks.length, 2)
  for (const pts of sparks) {
    assert.equal(pts.length, 4)
    assert.ok(pts[3][0] > pts[0][0] && pts[3][1] < pts[0][1], JSON.stringify(pts))
  }
  // then the largest sites, in a table
  assert.match(section, /<table id="sites-largest">.*<code>bigTable<\/code>/s)
  // self-contained: nothing fetched
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i)
})

test('renderHtml({ sites }): a hostile function name or URL is escaped everywhere', () => {
  const evil = site(HOSTILE, [1e6, 2e6, 3e6], { url: `/srv/"><script>alert(1)</script>.js`, caller: { fn: HOSTILE, url: '/x.js', line: 1, column: 1 }, package: '<b>pkg</b>' })
  const html = leakprobe.renderHtml({ sites: state([evil]) })
  assert.ok(!html.includes('<img src=x'), 'raw markup from a function name')
  assert.ok(!html.includes('<script>alert'), 'raw markup from a URL')
  assert.ok(!html.includes('<b>pkg'), 'raw markup from a package name')
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'))
  assert.match(html, /<svg class="spark"/)
})

test('renderHtml({ sites }): nothing growing, a sampling error, and sites beside a report', () => {
  const none = leakprobe.renderHtml({ sites: { ...state([], [site('bigTable', [9e6, 9e6, 9e6, 9e6])]), running: false, error: { code: 'ERR_LEAKPROBE_SAMPLING', message: 'no <inspector>' } } })
  assert.match(none, /id="sites-none"/)
  assert.match(none, /ERR_LEAKPROBE_SAMPLING: no &lt;inspector&gt;/)
  assert.match(none, /the profiler is not running/)
  assert.throws(() => leakprobe.renderHtml({}), /report and\/or a comparison, or sites/)
  const comparison = {
    format: 'leakprobe-compare/1', leak: false, growth: { bytes: 0, objects: 0 }, snapshots: [{ role: 'baseline' }, { role: 'target' }],
    threshold: { bytes: 16384, count: 10 }, timings: { parseMs: 1, analyzeMs: 1 }, suspects: [], classes: [],
  }
  const both = leakprobe.renderHtml({ comparison, sites: state([site('remember', [1, 2, 3, 4].map((x) => x * 1e6))]) })
  assert.ok(both.indexOf('id="comparison"') < both.indexOf('id="sites"'), 'the verdict first, then where it is allocated')
  assert.doesNotMatch(leakprobe.renderHtml({ comparison }), /id="sites"/)
})
