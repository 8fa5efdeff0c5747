'use strict'
// The admin route (README: "The admin route") as a plain node:http handler; lib/admin/express.js mounts it.
// Order of checks for every request under the route: client address (allowlist) → token →
// route and method → limits. Every refusal is a JSON error and writes nothing.
const path = require('node:path')
const v8 = require('node:v8')
const { capture } = require('../capture')
const { analyze } = require('../analyze')
const { compare, thresholdFromText } = require('../compare')
const { LeakprobeError } = require('../errors')
const { wholeNumber } = require('../options')
const { allowList, bareFamily } = require('./netmask')
const { tokenChecker } = require('./auth')
const { snapshotRoom, SYSTEM, formatBytes, SNAPSHOT_BYTES_PER_OBJECT } = require('./memory')
const { Store, defaultStoreDir } = require('./store')
const { renderHtml } = require('../html-report')
const { sendFile } = require('./download')

const TOKEN_CHARS = /^[\x21-\x7e]+$/

function setupError(msg) {
  return new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', `leakprobe admin route: ${msg}`)
}

function checkOptions(o = {}) {
  if (o === null || typeof o !== 'object') throw setupError('options must be an object')
  const token = o.token !== undefined ? o.token : process.env.LEAKPROBE_TOKEN
  if (typeof token !== 'string' || token.length < 16) {
    throw setupError('a `token` (or LEAKPROBE_TOKEN) of at least 16 characters is required: the route hands out every secret in this process\'s memory')
  }
  // what a client can send in `Authorization: Bearer <token>`: one word of printable ASCII
  if (!TOKEN_CHARS.test(token)) {
    throw setupError('the `token` (or LEAKPROBE_TOKEN) must be printable ASCII without spaces (characters ! to ~), as sent in `Authorization: Bearer <token>`; e.g. `openssl rand -hex 32`')
  }
  const list = (name, v) => {
    try {
      return allowList(v, name)
    } catch (e) {
      throw setupError(e.message)
    }
  }
  const allowed = list('allow', o.allow)
  const trust = o.trustProxy
  if (trust !== undefined && typeof trust !== 'boolean' && typeof trust !== 'string' && !Array.isArray(trust)) {
    throw setupError('`trustProxy` must be true/false, a proxy address (or CIDR block), or a list of them')
  }
  const num = (name, v, dflt) => {
    if (v === undefined) return dflt
    if (typeof v !== 'number' || !(v >= 0)) throw setupError(`\`${name}\` must be a number ≥ 0`)
    return v
  }
  if (o.prefix !== undefined && (typeof o.prefix !== 'string' || !o.prefix.startsWith('/'))) throw setupError('`prefix` must start with /')
  return {
    checkToken: tokenChecker(token),
    allowed,
    trustProxy: trust === true ? () => true : trust === undefined || trust === false ? () => false : list('trustProxy', trust),
    store: openStore(o, num),
    allowDownload: o.allowDownload === true,
    redact: o.redact === true,
    minIntervalMs: num('minIntervalMs', o.minIntervalMs, 60_000),
    // undefined: the estimate from the heap's object count (memory.js)
    memoryFactor: num('memoryFactor', o.memoryFactor, undefined),
    // tests only: a fake /proc and cgroup tree, a fixed MemAvailable
    system: o[SYSTEM] || null,
    monitor: o.monitor || null,
    prefix: o.prefix ? o.prefix.replace(/\/+$/, '') : '',
    onError: errorHook(o.onError),
    top: num('top', o.top, 20),
  }
}

// `dir`, or `<os.tmpdir()>/leakprobe-<uid>/route-<app>` (store.js): checked and cleaned now
function openStore(o, num) {
  if (o.dir !== undefined && (typeof o.dir !== 'string' || o.dir === '')) throw setupError('`dir` must be a directory path')
  const limits = { keep: num('keep', o.keep, 10), maxBytes: num('maxBytes', o.maxBytes, Infinity) }
  try {
    return new Store(o.dir ? path.resolve(o.dir) : defaultStoreDir(), limits)
  } catch (e) {
    if (e.code === 'ERR_LEAKPROBE_DIR') e.message = `leakprobe admin route: ${e.message}`
    throw e
  }
}

// `onError(err, { method, path })`: the full detail of every failure on the server's side (the
// client only gets a code and a message without paths). Default: a process warning (stderr).
function errorHook(hook) {
  if (hook !== undefined && typeof hook !== 'function') throw setupError('`onError` must be a function (err, { method, path }) => void')
  const report = hook || ((err, where) => {
    process.emitWarning(`leakprobe route: ${where.method} ${where.path}: ${(err && err.message) || err}`, { type: 'LeakprobeWarning', code: (err && err.code) || 'ERR_LEAKPROBE_INTERNAL' })
  })
  // a hook that throws must not take the request (or the app) down with it
  return (err, where) => {
    try { report(err, where) } catch { /* the hook's own failure: dropped, as above */ }
  }
}

// What a client is told of an error: a code and a message of ours, never a server path or a raw
// Node error (ENOENT, ENOTDIR…); the error itself goes to onError. → [status, code, message]
const PUBLIC = {
  ERR_LEAKPROBE_INVALID_ARG: [400, 'a value in the request is not valid'],
  ERR_LEAKPROBE_SNAPSHOT: [422, 'the snapshot cannot be read: it is truncated, not gzip, or not a heap snapshot'],
  ERR_LEAKPROBE_DIR: [500, "the route's snapshot directory cannot be used (missing, not a directory, or not this user's alone)"],
  ERR_LEAKPROBE_WRITE: [500, 'writing the snapshot failed (disk full, file size limit…); nothing was kept'],
  ERR_LEAKPROBE_CAPTURE: [500, 'V8 could not write the heap snapshot; nothing was kept'],
  ERR_LEAKPROBE_SPILL: [500, "the analysis's temporary file could not be read back (a disk error)"],
  ERR_LEAKPROBE_READ: [500, 'the snapshot could not be read'],
}
const LOG_NOTE = "; the details are in the server's log"
const UNSAFE = /(^|[\s'"(=:])[/\\][^\s]|[A-Za-z]:\\|\bE[A-Z]{3,}\b|os error \d+/

function publicError(e) {
  const code = e && typeof e.code === 'string' && e.code.startsWith('ERR_LEAKPROBE_') ? e.code : 'ERR_LEAKPROBE_INTERNAL'
  // our own checks of the request (query values): their messages are about the request
  if (code === 'ERR_LEAKPROBE_INVALID_ARG' && !UNSAFE.test(e.message)) return [400, code, e.message]
  const [status, message] = PUBLIC[code] || [500, 'internal error in the leakprobe route']
  return [status, PUBLIC[code] ? code : 'ERR_LEAKPROBE_INTERNAL', message + LOG_NOTE]
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

// HTML only when asked for before JSON (a browser); everything else gets JSON
function wantsHtml(req) {
  const accept = String(req.headers.accept || '')
  const h = accept.indexOf('text/html')
  const j = accept.indexOf('application/json')
  return h >= 0 && (j < 0 || h < j)
}

function sendHtml(res, html) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'" })
  res.end(html)
}

function fail(res, status, code, message, headers) {
  send(res, status, { error: { code, message } }, headers)
}

// The client: the socket's peer; X-Forwarded-For's last hop only from a trusted proxy. A last
// hop that is not a bare address (a port, brackets, `unknown`, empty) is nobody: null, refused —
// never the proxy's own address.
function clientAddress(req, opts) {
  const peer = req.socket.remoteAddress
  const xff = req.headers['x-forwarded-for']
  if (xff === undefined || !opts.trustProxy(peer)) return peer
  const hops = String(xff).split(',')
  const last = hops[hops.length - 1].trim()
  return bareFamily(last) ? last : null
}

const ROUTES = [
  { re: /^\/$/, methods: ['GET'], name: 'page' },
  { re: /^\/snapshots$/, methods: ['GET', 'POST'], name: 'snapshots' },
  { re: /^\/snapshots\/([^/]*)$/, methods: ['GET', 'DELETE'], name: 'snapshot' },
  { re: /^\/snapshots\/([^/]*)\/report$/, methods: ['GET'], name: 'report' },
  { re: /^\/compare$/, methods: ['GET'], name: 'compare' },
  { re: /^\/stats$/, methods: ['GET'], name: 'stats' },
  { re: /^\/sites$/, methods: ['GET'], name: 'sites' },
  { re: /^\/metrics$/, methods: ['GET'], name: 'metrics' },
]

function createHandler(options) {
  const opts = checkOptions(options)
  const state = { capturing: false, lastCaptureAt: 0, series: null }

  async function handle(req, res, rel) {
    const client = clientAddress(req, opts)
    if (client === null) {
      return fail(res, 403, 'ERR_LEAKPROBE_FORBIDDEN', "the trusted proxy's X-Forwarded-For does not end with a bare IP address: refused")
    }
    if (!opts.allowed(client)) {
      return fail(res, 403, 'ERR_LEAKPROBE_FORBIDDEN', 'this address may not use the leakprobe route (see the `allow` option)')
    }
    if (!opts.checkToken(req.headers.authorization)) {
      return fail(res, 401, 'ERR_LEAKPROBE_UNAUTHORIZED', 'send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="leakprobe"' })
    }
    // routes match the raw path: URL parsing would resolve `/snapshots/..` to `/` (and throw on
    // `//[`); only the query is parsed, and URLSearchParams takes any text
    const q = rel.indexOf('?')
    const pathname = q < 0 ? rel : rel.slice(0, q)
    const url = { searchParams: new URLSearchParams(q < 0 ? '' : rel.slice(q + 1)) }
    const route = ROUTES.map((r) => ({ r, m: r.re.exec(pathname) })).find((x) => x.m)
    if (!route) return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', 'no such endpoint')
    if (!route.r.methods.includes(req.method)) {
      return fail(res, 405, 'ERR_LEAKPROBE_METHOD', `${req.method} is not allowed here`, { allow: route.r.methods.join(', ') })
    }
    const entryOf = (raw) => {
      let id
      try { id = decodeURIComponent(raw) } catch { return null }
      return opts.store.find(id)
    }
    switch (`${req.method} ${route.r.name}`) {
      case 'GET page':
        return sendPage(res, opts)
      case 'GET snapshots':
        return send(res, 200, { snapshots: opts.store.list().map(({ file, ...s }) => s) })
      case 'POST snapshots':
        return takeSnapshot(res, url, opts, state)
      case 'GET snapshot': {
        const e = entryOf(route.m[1])
        if (!e) return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', 'no snapshot with this id')
        if (!opts.allowDownload) return fail(res, 403, 'ERR_LEAKPROBE_DOWNLOAD_OFF', 'raw snapshots hold every secret in memory; downloading is off unless the route is set up with allowDownload: true')
        // opened now: a DELETE from here on removes the name, not what this download reads
        const f = opts.store.open(e.file)
        if (!f) return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', 'no snapshot with this id')
        return sendFile(res, f, {
          'content-type': e.file.endsWith('.gz') ? 'application/gzip' : 'application/json',
          'content-disposition': `attachment; filename="${path.basename(e.file)}"`,
        }, (err) => opts.onError(err, { method: req.method, path: pathname }))
      }
      case 'DELETE snapshot': {
        const e = entryOf(route.m[1])
        if (!e) return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', 'no snapshot with this id')
        opts.store.remove(e)
        res.writeHead(204).end()
        return
      }
      case 'GET report': {
        const e = entryOf(route.m[1])
        if (!e) return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', 'no snapshot with this id')
        let report = opts.store.readReport(e)
        if (!report) {
          report = await ifStillThere(opts, [e], () => analyze(e.file, { top: opts.top }))
          if (!report) return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', 'no snapshot with this id')
          opts.store.saveReport(e, report)
        }
        if (wantsHtml(req)) return sendHtml(res, renderHtml({ report, samples: opts.monitor ? opts.monitor.samples : [], sites: sitesOf(opts.monitor), title: `leakprobe: snapshot ${e.id}` }))
        return send(res, 200, report)
      }
      case 'GET compare': {
        const ids = ['baseline', 'target', 'final'].map((k) => url.searchParams.get(k))
        if (!ids[0] || !ids[1]) return fail(res, 400, 'ERR_LEAKPROBE_INVALID_ARG', 'pass ?baseline=<id>&target=<id>[&final=<id>]')
        const entries = ids.map((id) => (id === null ? null : opts.store.find(id)))
        const missing = ids.findIndex((id, i) => id !== null && !entries[i])
        if (missing >= 0) return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', `no snapshot with the ${['baseline', 'target', 'final'][missing]} id`)
        // `threshold=BYTES[,COUNT]`, as the CLI's --threshold
        const t = url.searchParams.get('threshold')
        const threshold = t ? thresholdFromText(t) : undefined
        const comparison = await ifStillThere(opts, entries, () => compare(entries[0].file, entries[1].file, entries[2] ? entries[2].file : undefined, { threshold }))
        if (!comparison) return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', 'a snapshot of this comparison was deleted meanwhile')
        if (wantsHtml(req)) return sendHtml(res, renderHtml({ comparison, samples: opts.monitor ? opts.monitor.samples : [], sites: sitesOf(opts.monitor) }))
        return send(res, 200, comparison)
      }
      case 'GET stats': {
        const h = v8.getHeapStatistics()
        return send(res, 200, {
          memory: process.memoryUsage(),
          heap: { used: h.used_heap_size, total: h.total_heap_size, limit: h.heap_size_limit },
          snapshotRoom: room(opts, h.used_heap_size),
          capturing: state.capturing,
          samples: opts.monitor ? opts.monitor.samples : [],
          ...monitorState(opts.monitor),
        })
      }
      case 'GET sites': {
        const sites = sitesOf(opts.monitor, limitOf(url))
        if (!sites) return fail(res, 404, 'ERR_LEAKPROBE_NO_SAMPLING', noSamplingMessage(opts.monitor))
        if (wantsHtml(req)) return sendHtml(res, renderHtml({ sites, samples: opts.monitor.samples, title: 'leakprobe: allocation sites' }))
        return send(res, 200, sites)
      }
      case 'GET metrics': {
        // Prometheus text of the monitor's state (lib/metrics/), without prom-client
        if (!opts.monitor) return fail(res, 404, 'ERR_LEAKPROBE_NO_MONITOR', 'metrics are the route\'s monitor\'s state, and this route has no monitor: pass `monitor: leakprobe.monitor()` (with `sampling: true` for allocation sites) to the route\'s `monitor` option')
        const { metricsText, CONTENT_TYPE } = require('../metrics/exposition')
        const text = metricsText(opts.monitor)
        res.writeHead(200, { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) })
        res.end(text)
        return
      }
    }
  }

  return function leakprobeHandler(req, res, next) {
    let rel = req.url || '/'
    if (opts.prefix) {
      if (rel !== opts.prefix && !rel.startsWith(`${opts.prefix}/`) && !rel.startsWith(`${opts.prefix}?`)) {
        if (typeof next === 'function') return next()
        return fail(res, 404, 'ERR_LEAKPROBE_NOT_FOUND', 'not found')
      }
      rel = rel.slice(opts.prefix.length) || '/'
    }
    if (!rel.startsWith('/')) rel = `/${rel}`
    handle(req, res, rel).catch((e) => {
      const [status, code, message] = publicError(e)
      if (status >= 422) opts.onError(e, { method: req.method, path: rel.split('?')[0] })
      if (!res.headersSent) fail(res, status, code, message)
      else res.destroy()
    })
  }
}

// Runs `work` (an analysis of `entries`' files); null when it failed because one of them was
// deleted meanwhile (a DELETE or retention racing this request): that is a 404, not a broken file.
async function ifStillThere(opts, entries, work) {
  try {
    return await work()
  } catch (e) {
    if (entries.some((x) => x && !opts.store.find(x.id))) return null
    throw e
  }
}

const SERIES_ID = /^[A-Za-z0-9_-]{8,64}$/
const SERIES_CAPTURES = 3

async function takeSnapshot(res, url, opts, state) {
  if (state.capturing) return fail(res, 409, 'ERR_LEAKPROBE_BUSY', 'a capture is already running; retry later', { 'retry-after': '30' })
  // A series (`?series=ID`, e.g. one `leakprobe check`: baseline, target, final) is let through
  // back to back, up to SERIES_CAPTURES; the minimum interval holds between series.
  const series = url.searchParams.get('series')
  if (series !== null && !SERIES_ID.test(series)) return fail(res, 400, 'ERR_LEAKPROBE_INVALID_ARG', 'series must be 8-64 characters of A-Z a-z 0-9 _ -')
  const inSeries = series !== null && state.series !== null && state.series.id === series && state.series.count < SERIES_CAPTURES
  const wait = state.lastCaptureAt + opts.minIntervalMs - Date.now()
  if (wait > 0 && !inSeries) {
    return fail(res, 429, 'ERR_LEAKPROBE_TOO_SOON', `captures are at least ${opts.minIntervalMs} ms apart`, { 'retry-after': String(Math.ceil(wait / 1000)) })
  }
  const r = room(opts, v8.getHeapStatistics().used_heap_size)
  if (!r.ok) return fail(res, 503, 'ERR_LEAKPROBE_NO_MEMORY', noMemoryMessage(r, opts), { 'retry-after': '60' })
  const withReport = url.searchParams.get('analyze') === '1'
  opts.store.check()
  state.capturing = true
  let c
  try {
    c = await capture({ dir: opts.store.dir, analyze: withReport, top: opts.top, redact: opts.redact })
  } catch (e) {
    if (e.code === 'ERR_LEAKPROBE_BUSY') return fail(res, 409, e.code, e.message, { 'retry-after': '30' })
    throw e
  } finally {
    state.capturing = false
    state.lastCaptureAt = Date.now()
    state.series = series === null ? null : { id: series, count: inSeries ? state.series.count + 1 : 1 }
  }
  const entry = opts.store.find(c.id)
  if (withReport && entry) opts.store.saveReport(entry, c.report)
  opts.store.prune()
  const { file, ...body } = c
  return send(res, 201, body, { location: `snapshots/${c.id}` })
}

// The monitor's allocation sites (monitor.sites()), or null: no monitor, or one without sampling.
function sitesOf(monitor, limit) {
  if (!monitor || typeof monitor.sites !== 'function') return null
  return monitor.sites(limit ? { limit } : undefined) || null
}

// `?limit=N` on GET /sites: sites listed in `growing` and in `largest` (default the monitor's 10)
function limitOf(url) {
  const raw = url.searchParams.get('limit')
  if (raw === null) return undefined
  return wholeNumber('limit', Number(raw), { min: 1, max: 100, got: JSON.stringify(raw) })
}

function noSamplingMessage(monitor) {
  const how = 'pass `monitor: leakprobe.monitor({ sampling: true })` to the route\'s `monitor` option'
  return monitor
    ? `allocation sites need the monitor's sampling heap profiler, and the route's monitor runs without it: ${how}`
    : `allocation sites come from a monitor with sampling, and this route has no monitor: ${how}`
}

// GET /stats: the monitor's settings, its sites, its current leak and whether the floor is rising
function monitorState(monitor) {
  if (!monitor) return { monitor: null, sites: null, leak: null, growing: false }
  return {
    monitor: { running: Boolean(monitor.running), intervalMs: monitor.intervalMs, sampling: Boolean(monitor.sampler) },
    sites: sitesOf(monitor),
    leak: monitor.leak || null,
    growing: Boolean(monitor.growing),
  }
}

function room(opts, heapUsed) {
  return snapshotRoom({ heapUsed, factor: opts.memoryFactor, [SYSTEM]: opts.system || undefined })
}

// e.g. "a heap snapshot needs about 1.8 GB (1800000000 bytes: ~4,000,000 heap objects × 450 B,
// object size from this process's last capture) and only 0.9 GB (…) is free under this process's
// cgroup memory limit; nothing was captured"
const BASIS = {
  capture: "object size from this process's last capture",
  sampling: 'object size from the sampling heap profiler',
  default: 'assuming small objects until a capture measures them',
}
function noMemoryMessage(r, opts) {
  const how = r.basis === 'factor'
    ? `${opts.memoryFactor}x the heap in use, the route's memoryFactor`
    : `~${r.objects.toLocaleString('en-US')} heap objects × ${SNAPSHOT_BYTES_PER_OBJECT} B, ${BASIS[r.basis]}`
  const where = r.limitedBy === 'cgroup' ? "under this process's cgroup memory limit" : 'on this machine'
  return `a heap snapshot needs about ${formatBytes(r.need)} (${r.need} bytes: ${how}) and only ${formatBytes(r.available)} (${r.available} bytes) is free ${where}; nothing was captured`
}

function sendPage(res, opts) {
  const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
  const rows = opts.store.list().map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.bytes)}</td><td>${esc(s.createdAt)}</td></tr>`).join('')
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>leakprobe</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}code{background:#f3f3f3;padding:0 .3em}</style></head>
<body><h1>leakprobe</h1><p>Endpoints (all need <code>Authorization: Bearer &lt;token&gt;</code>): <code>POST snapshots[?analyze=1]</code>, <code>GET snapshots</code>,
<code>GET snapshots/:id/report</code>, <code>GET compare?baseline=&amp;target=&amp;final=</code>, <code>GET stats</code>, <code>GET sites[?limit=N]</code> (allocation sites, with a sampling monitor), <code>GET metrics</code> (the monitor's state as Prometheus text), <code>DELETE snapshots/:id</code>.
A browser cannot send the token: to read a report here, run <code>npx leakprobe open --url &lt;this page's address&gt; [ID]</code>, which fetches it with the token and opens a local copy.</p>
<table><thead><tr><th>snapshot</th><th>bytes</th><th>taken</th></tr></thead><tbody>${rows || '<tr><td colspan="3">none yet</td></tr>'}</tbody></table></body></html>`
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" })
  res.end(html)
}

module.exports = { createHandler }
