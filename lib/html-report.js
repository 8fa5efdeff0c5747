'use strict'
// One self-contained HTML page for a person: the heap summary, the suspects with their holders
// and retainer paths, the biggest retainers, the class table (sortable), and the monitor's post-GC
// trend as an inline SVG chart. No network requests: inline CSS, SVG and a few lines of script,
// so it works offline, from disk, and as a CI artifact. Every string from a snapshot is escaped
// (object names and property names are the heap's content, i.e. anyone's input).
const { bytes, int, locationText } = require('./format')

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

// a retainer path as a list; a repeated step (or run of steps) once, with its count; edges of
// Node's own machinery marked
function pathHtml(steps) {
  if (!steps || !steps.length) return ''
  const item = (s, i) => {
    const name = s.name || `(${s.type})`
    const edge = i === steps.length - 1 ? '' : `<span class="edge${s.internal ? ' internal' : ''}"${s.internal ? ' title="Node internal"' : ''}>.${esc(/^\d+$/.test(s.edge) || s.edgeType === 'element' ? `[${s.edge}]` : s.edge)}${s.internal ? '°' : ''}</span>`
    return `<span class="node">${esc(name.length > 80 ? `${name.slice(0, 79)}…` : name)}</span>${edge}`
  }
  const items = []
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]
    const span = s.repeat > 1 ? Math.max(1, s.repeatSteps || 1) : 1
    const run = steps.slice(i, i + span).map((x, j) => item(x, i + j))
    items.push(s.repeat > 1
      ? `<li class="repeat">${span > 1 ? `(${run.join(' → ')})` : run[0]} <b class="times">×${esc(int(s.repeat))}</b></li>`
      : `<li>${run[0]}</li>`)
    i += span - 1
  }
  return `<ol class="path">${items.join('')}</ol>`
}

function table(id, headers, rows, { sortable = false } = {}) {
  const head = headers.map((h, i) => `<th${h.num ? ' class="num"' : ''}${sortable ? ` data-col="${i}" tabindex="0"` : ''}>${esc(h.label)}</th>`).join('')
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${headers[i].num ? ` class="num" data-v="${esc(c.v)}"` : ''}>${c.html}</td>`).join('')}</tr>`).join('')
  return `<table id="${id}"${sortable ? ' class="sortable"' : ''}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
}

const n = (v, f = int) => ({ v, html: esc(f(v)) })
const t = (s) => ({ v: s, html: esc(s) })
const signed = (v, f) => ({ v, html: esc(`${v > 0 ? '+' : v < 0 ? '-' : ''}${f(Math.abs(v))}`) })

// The post-GC floor (and heap in use) over time; samples: [{ time, heapUsed, postGcHeapUsed }]
function trendChart(samples) {
  const pts = (samples || []).filter((s) => Number.isFinite(s.time) && Number.isFinite(s.heapUsed))
  if (pts.length < 2) return '<p class="empty" id="trend-empty">no samples: start leakprobe.monitor() in the process to see the post-GC trend</p>'
  const W = 720, H = 220, L = 70, B = 30, T = 10, R = 10
  const t0 = pts[0].time, t1 = pts[pts.length - 1].time || t0 + 1
  const ys = pts.flatMap((s) => [s.heapUsed, s.postGcHeapUsed].filter(Number.isFinite))
  const lo = Math.min(...ys) * 0.95, hi = Math.max(...ys) * 1.05 || 1
  const x = (tm) => L + ((tm - t0) / Math.max(1, t1 - t0)) * (W - L - R)
  const y = (v) => T + (1 - (v - lo) / Math.max(1, hi - lo)) * (H - T - B)
  const line = (key, cls) => {
    const p = pts.filter((s) => Number.isFinite(s[key])).map((s) => `${x(s.time).toFixed(1)},${y(s[key]).toFixed(1)}`)
    return p.length ? `<polyline class="${cls}" points="${p.join(' ')}"/>` : ''
  }
  const ticks = [lo, (lo + hi) / 2, hi].map((v) => `<text x="${L - 6}" y="${y(v).toFixed(1)}" class="tick" text-anchor="end">${esc(bytes(Math.round(v)))}</text>`).join('')
  const span = `${Math.round((t1 - t0) / 1000)} s`
  return `<svg id="trend" viewBox="0 0 ${W} ${H}" role="img" aria-label="heap after GC over time">
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" class="axis"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" class="axis"/>
${ticks}<text x="${W - R}" y="${H - 8}" class="tick" text-anchor="end">${esc(span)}</text><text x="${L}" y="${H - 8}" class="tick">0 s</text>
${line('heapUsed', 'used')}${line('postGcHeapUsed', 'floor')}</svg>
<p class="legend"><span class="floor-key"></span> heap after GC (the floor) <span class="used-key"></span> heap in use</p>`
}

function summarySection(r) {
  const s = r.snapshot
  return `<section id="summary"><h2>Heap</h2><dl>
<dt>objects</dt><dd>${esc(int(s.nodes))}</dd><dt>references</dt><dd>${esc(int(s.edges))}</dd>
<dt>total size</dt><dd>${esc(bytes(s.totalSize))}</dd><dt>unreachable</dt><dd>${esc(bytes(s.unreachableSize))}</dd>
<dt>${r.timings.duringCapture ? 'read while V8 wrote it / analyze' : 'parse / analyze'}</dt><dd>${esc(Math.round(r.timings.parseMs))} ms / ${esc(Math.round(r.timings.analyzeMs))} ms</dd></dl></section>`
}

// ` at lib/jobs.js:15:28` beside a suspect's or a top node's name (the full URL on hover); '' without one
function locationHtml(loc) {
  if (!loc) return ''
  return ` <small>at</small> <code class="loc" title="${esc(`${loc.url}:${loc.line}:${loc.column}`)}">${esc(locationText(loc))}</code>`
}

function comparisonSection(c) {
  const top = c.suspects[0]
  const verdict = c.leak
    ? `<p class="verdict leak" id="verdict">Leak: ${esc(int(top.count))} <b>${esc(top.name)}</b> objects (${esc(bytes(top.retainedSize))} retained) held by <b>${esc(top.holder.name)}${top.holder.edge ? `.${esc(top.holder.edge)}` : ''}</b>${top.holder.keys ? ` (${esc(int(top.holder.keys))} keys)` : ''}, growing ${esc(top.counts.map(int).join(' → '))}</p>`
    : `<p class="verdict ok" id="verdict">No leak: no group of new objects kept growing past the threshold (${esc(bytes(c.threshold.bytes))}, ${esc(int(c.threshold.count))} objects).</p>`
  const suspects = c.suspects.map((s, i) => `<li class="suspect"><h3>#${i + 1} ${esc(s.name)}${locationHtml(s.location)} <small>× ${esc(int(s.count))}, ${esc(bytes(s.retainedSize))} retained${s.leak ? ' — <b class="tag">LEAK</b>' : s.vmHeld ? ' — held by V8' : ''}</small></h3>
<p>held by <code>${esc(s.holder.name)}${s.holder.edge ? `.${esc(s.holder.edge)}` : ''}</code>${s.holder.keys ? ` (${esc(int(s.holder.keys))} keys)` : ''}; the group per snapshot ${esc(s.counts.map(int).join(' → '))}${s.classCounts ? `; its class per snapshot ${esc(s.classCounts.map(int).join(' → '))}` : ''}</p>${pathHtml(s.path)}</li>`).join('')
  const classes = table('diff', [{ label: 'class' }, { label: 'size Δ', num: true }, { label: 'count Δ', num: true }, { label: 'new', num: true }, { label: 'deleted', num: true }],
    c.classes.slice(0, 200).map((r) => [t(r.name), signed(r.sizeDelta, bytes), signed(r.countDelta, int), n(r.new), n(r.deleted)]), { sortable: true })
  return `<section id="comparison"><h2>What grew, and who holds it</h2>${verdict}
<p>growth ${esc(`${c.growth.bytes >= 0 ? '+' : '-'}${bytes(Math.abs(c.growth.bytes))}`)}, ${esc(int(c.growth.objects))} objects across ${esc(c.snapshots.map((s) => s.role).join(', '))}</p>
<ol class="suspects">${suspects || '<li>no object allocated after the baseline is still alive</li>'}</ol>
<h3>Classes by size change</h3>${classes}</section>`
}

function reportSections(r) {
  const top = r.top.map((x, i) => `<li class="top"><b>${esc(x.name || `(${x.type})`)}</b>${locationHtml(x.location)} <small>@${esc(x.id)} ${esc(x.type)}: ${esc(bytes(x.retainedSize))} retained, ${esc(bytes(x.selfSize))} self, distance ${esc(x.distance)}</small>${i < 10 ? pathHtml(x.path) : ''}</li>`).join('')
  const classes = table('classes', [{ label: 'class' }, { label: 'count', num: true }, { label: 'self size', num: true }, { label: 'retained size', num: true }],
    r.classes.slice(0, 500).map((c) => [t(c.name), n(c.count), n(c.selfSize, bytes), n(c.retainedSize, bytes)]), { sortable: true })
  return `<section id="top"><h2>Biggest retainers</h2><ol>${top}</ol></section>
<section><h2>Classes <small>(click a column to sort)</small></h2>${classes}</section>`
}

// --- allocation sites (monitor({ sampling }): monitor.sites(), GET /sites) -------------------

// `/srv/app/server.js:12:5` (file:// dropped); `native` when V8 gave no script
function siteWhere(f) {
  const url = String(f.url || 'native').replace(/^file:\/\//, '')
  return `${url}:${f.line}:${f.column}`
}

// live bytes per read as a small line; the last point marked
function sparkline(values) {
  const v = (values || []).filter(Number.isFinite)
  if (v.length < 2) return ''
  const W = 120, H = 28, P = 3
  const lo = Math.min(...v), hi = Math.max(...v)
  const x = (i) => P + (i / (v.length - 1)) * (W - 2 * P)
  const y = (b) => (hi === lo ? H / 2 : H - P - ((b - lo) / (hi - lo)) * (H - 2 * P))
  const pts = v.map((b, i) => `${x(i).toFixed(1)},${y(b).toFixed(1)}`).join(' ')
  const label = `live bytes per read: ${bytes(v[0])} to ${bytes(v[v.length - 1])} over ${v.length} reads`
  return `<svg class="spark" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>` +
    `<polyline points="${pts}"/><circle cx="${x(v.length - 1).toFixed(1)}" cy="${y(v[v.length - 1]).toFixed(1)}" r="2.5"/></svg>`
}

function siteItem(s) {
  const g = s.growth || []
  const rise = g.length > 1 ? g[g.length - 1] - g[0] : null
  const pkg = s.package ? ` <span class="pkg">${esc(s.package)}</span>` : ''
  const caller = s.caller ? `<p>called from <code>${esc(s.caller.fn)}</code> at <code>${esc(siteWhere(s.caller))}</code></p>` : ''
  const figures = [`${bytes(s.liveBytes)} live`]
  if (rise !== null) figures.push(`${rise >= 0 ? '+' : '-'}${bytes(Math.abs(rise))} over ${g.length} reads`)
  if (Number.isFinite(s.share)) figures.push(`${Math.round(s.share * 100)}% of the floor's rise`)
  const stack = (s.stack || []).length ? `<ol class="stack">${s.stack.map((f) => `<li>${esc(f)}</li>`).join('')}</ol>` : ''
  return `<li class="site"><h3><code>${esc(s.fn)}</code> <small>${esc(siteWhere(s))}</small>${pkg}</h3>
<p class="site-figures">${sparkline(g)} ${esc(figures.join(', '))}</p>${caller}${stack}</li>`
}

// sites: a monitor.sites() object { running, intervalBytes, reads, pauseMs, growing, largest, error? }
function sitesSection(sites) {
  const reads = sites.reads || []
  const span = reads.length > 1 ? `, ${Math.round((reads[reads.length - 1].time - reads[0].time) / 1000)} s apart first to last` : ''
  const about = `${int(reads.length)} reads of V8's sampling heap profiler (one sample per ${bytes(sites.intervalBytes)} allocated${span}); ` +
    `each read paused the process ${sites.pauseMs && sites.pauseMs.last !== null ? `${sites.pauseMs.last} ms the last time, ` : ''}` +
    `${sites.pauseMs ? `${int(sites.pauseMs.total)} ms in all` : ''}${sites.running ? '' : '; the profiler is not running'}`
  const error = sites.error ? `<p class="verdict leak" id="sites-error">${esc(sites.error.code)}: ${esc(sites.error.message)}</p>` : ''
  const growing = sites.growing || []
  const list = growing.length
    ? `<ol class="sites" id="sites-growing">${growing.map(siteItem).join('')}</ol>`
    : `<p class="empty" id="sites-none">no allocation site's live bytes kept rising over ${reads.length < 3 ? 'the reads so far (3 are needed)' : 'the window'}: nothing is named</p>`
  const largest = table('sites-largest', [{ label: 'function' }, { label: 'where' }, { label: 'package' }, { label: 'live bytes', num: true }, { label: 'per read' }],
    (sites.largest || []).map((s) => [
      { v: s.fn, html: `<code>${esc(s.fn)}</code>` }, t(siteWhere(s)), t(s.package || ''), n(s.liveBytes, bytes), { v: '', html: sparkline(s.growth) },
    ]))
  return `<section id="sites"><h2>Where the growing memory is allocated</h2>
<p><small>${esc(about)}. A site is the first frame that is not Node's own code, with the app's caller when it is in a package; its live bytes are the sampled estimate of what it allocated that is still alive.</small></p>
${error}${list}<h3>Largest allocation sites</h3>${largest}</section>`
}

const SITES_CSS = `.sites{padding-left:1.5em}.site h3 code{font-size:1em}.pkg{background:#eef;border-radius:3px;padding:0 .4em;font-size:.8em;font-weight:normal}
.site-figures{display:flex;align-items:center;gap:.6em;margin:.2em 0}.spark{vertical-align:middle}.spark polyline{fill:none;stroke:#c33;stroke-width:1.5}.spark circle{fill:#c33}
.stack{list-style:none;padding:0 0 0 1em;margin:.2em 0 .8em;font-family:ui-monospace,monospace;font-size:12px;color:#444}.stack li::before{content:"at ";color:#999}`

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#1d1d1f;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}h3{margin:.6em 0 .2em}small{color:#666;font-weight:normal}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{color:#555}dd{margin:0}
table{border-collapse:collapse;width:100%}th,td{padding:.25em .6em;border-bottom:1px solid #eee;text-align:left}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
.verdict{padding:.6em 1em;border-radius:6px}.leak{background:#fde8e8;border:1px solid #e0a0a0}.ok{background:#e8f6e8;border:1px solid #a0d0a0}
.tag{color:#b00}.path{list-style:none;padding:0;margin:.2em 0 .8em;display:flex;flex-wrap:wrap;gap:.2em;font-family:ui-monospace,monospace;font-size:12px}
.path li+li::before{content:"→ ";color:#999}.edge{color:#0a5}.edge.internal{color:#999}.times{color:#555}code{background:#f4f4f4;padding:0 .3em}
#trend{width:100%;max-width:720px;height:auto}.axis{stroke:#999}.tick{font-size:11px;fill:#666}
polyline{fill:none;stroke-width:2}.floor{stroke:#c33}.used{stroke:#88a;stroke-dasharray:4 3}
.floor-key,.used-key{display:inline-block;width:1.5em;height:0;border-top:2px solid #c33;vertical-align:middle}.used-key{border-top:2px dashed #88a;margin-left:1em}`

// Sorting without a library: by data-v for numbers, by text otherwise.
const SCRIPT = `document.querySelectorAll('table.sortable th').forEach(function (th) {
  function sort() {
    var table = th.closest('table'), col = +th.dataset.col, num = th.classList.contains('num')
    var dir = th.getAttribute('aria-sort') === 'descending' ? 1 : -1
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort') })
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending')
    var rows = Array.prototype.slice.call(table.tBodies[0].rows)
    rows.sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col]
      var d = num ? (+x.dataset.v) - (+y.dataset.v) : x.textContent.localeCompare(y.textContent)
      return d * dir
    })
    rows.forEach(function (r) { table.tBodies[0].appendChild(r) })
  }
  th.addEventListener('click', sort)
  th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort() })
})`

// renderHtml({ report?, comparison?, samples?, sites?, title? }) → the page as a string
function renderHtml({ report, comparison, samples, sites, title } = {}) {
  if (!report && !comparison && !sites) throw new TypeError('renderHtml(): pass a report and/or a comparison, or sites (monitor.sites())')
  const heading = title || (comparison ? 'leakprobe: snapshot comparison' : report ? 'leakprobe: heap report' : 'leakprobe: allocation sites')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(heading)}</title><style>${CSS}${sites ? SITES_CSS : ''}</style></head>
<body><h1>${esc(heading)}</h1><p><small>generated ${esc(new Date().toISOString())} by leakprobe</small></p>
${comparison ? comparisonSection(comparison) : ''}${sites ? sitesSection(sites) : ''}${report ? summarySection(report) : ''}
<section id="trend-section"><h2>Heap after GC over time</h2>${trendChart(samples)}</section>
${report ? reportSections(report) : ''}
<script>${SCRIPT}</script></body></html>
`
}

module.exports = { renderHtml, escapeHtml: esc }
