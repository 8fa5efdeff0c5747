'use strict'
// The HTML report: self-contained, escaped, and rendered by a real headless Chromium (the DOM
// after scripts ran, and a screenshot). Browser tests skip with the reason when there is none.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const leakprobe = require('..')

const FIXTURE = path.join(__dirname, 'fixtures', 'small.heapsnapshot.gz')
const BIN = path.join(__dirname, '..', 'bin', 'leakprobe.js')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-html-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p))
const NO_BROWSER = CHROMIUM ? false : 'no Chromium here (install Debian\'s chromium package: .ci/run does)'

// Headless Chromium is sometimes killed by a signal on a loaded machine (seen once in CI, 0.6 s
// in): that says nothing of the page, so a browser that died by a signal gets one more try. An
// exit with a status, or a second death, fails the test.
function chromium(args, page) {
  const run = () => {
    const profile = fs.mkdtempSync(path.join(tmp, 'profile-'))
    return spawnSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, ...args, `file://${page}`], { encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 })
  }
  const r = run()
  return r.signal && !r.error ? run() : r
}

let report, comparison, page
const samples = Array.from({ length: 30 }, (_, i) => ({ time: 1_700_000_000_000 + i * 10_000, heapUsed: 60e6 + i * 2e6 + (i % 3) * 1e6, postGcHeapUsed: 50e6 + i * 1.5e6 }))

before(async () => {
  report = await leakprobe.analyze(FIXTURE, { top: 20, paths: 5 })
  const kept = []
  let n = 0
  comparison = await leakprobe.check(() => { for (let i = 0; i < 30; i++) kept.push({ ['<img src=x onerror=alert(1)>']: `v${n++}` }) }, { rounds: 2 })
  assert.equal(comparison.leak, true)
  page = path.join(tmp, 'report.html')
  fs.writeFileSync(page, leakprobe.renderHtml({ report, comparison, samples }))
})

test('renderHtml(): one self-contained page, every heap string escaped', () => {
  const html = fs.readFileSync(page, 'utf8')
  assert.match(html, /^<!doctype html>/)
  // no request leaves the page: no external src/href/url()
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i)
  assert.doesNotMatch(html, /url\(/i)
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/)
  // the leaked objects' property name is an XSS attempt: it appears only escaped
  assert.ok(!html.includes('<img src=x'), 'raw markup from the heap')
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'))
  assert.throws(() => leakprobe.renderHtml({}), /report and\/or a comparison/)
  const none = leakprobe.renderHtml({ report })
  assert.match(none, /id="trend-empty"/)
})

test('CLI: analyze --html and compare --html write the page', () => {
  const out = path.join(tmp, 'cli.html')
  const r = spawnSync(process.execPath, [BIN, 'analyze', FIXTURE, '--html', out], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.match(fs.readFileSync(out, 'utf8'), /id="classes"/)
  const c = spawnSync(process.execPath, [BIN, 'compare', FIXTURE, FIXTURE, '--html', out], { encoding: 'utf8' })
  assert.equal(c.status, 0, c.stderr)
  assert.match(fs.readFileSync(out, 'utf8'), /id="verdict"[^>]*>No leak/)
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp')), [])
})

test('Chromium renders the suspects, the chart and the sortable tables', { skip: NO_BROWSER }, () => {
  const r = chromium(['--dump-dom', '--virtual-time-budget=2000'], page)
  assert.equal(r.status, 0, `${r.signal || ''} ${r.stderr}`)
  const dom = r.stdout
  assert.match(dom, /id="verdict"[^>]*>Leak: 60 /)
  assert.match(dom, /<li class="suspect">/)
  assert.match(dom, /held by <code>system \/ Context\.kept<\/code>/)
  // the chart: two polylines with one point per sample
  const lines = [...dom.matchAll(/<polyline class="(floor|used)" points="([^"]+)"/g)]
  assert.deepEqual(lines.map((m) => m[1]).sort(), ['floor', 'used'])
  for (const m of lines) assert.equal(m[2].trim().split(' ').length, samples.length)
  // the class table, with the sorting script attached (headers made focusable by the page)
  assert.match(dom, /<table id="classes" class="sortable">/)
  assert.ok((dom.match(/<tr>/g) || []).length > 20)
})

test('Chromium screenshot of the report', { skip: NO_BROWSER }, () => {
  const png = path.join(tmp, 'report.png')
  const r = chromium([`--screenshot=${png}`, '--window-size=1200,1600'], page)
  assert.equal(r.status, 0, `${r.signal || ''} ${r.stderr}`)
  const buf = fs.readFileSync(png)
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  // a blank page compresses to almost nothing; the report does not
  assert.ok(buf.length > 50_000, `screenshot of ${buf.length} bytes`)
})
