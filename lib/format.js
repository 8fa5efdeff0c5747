'use strict'
// Plain-text rendering of reports for the terminal.
const path = require('node:path')
const { fileURLToPath } = require('node:url')

function bytes(n) {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024, u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`
}

const int = (n) => n.toLocaleString('en-US')

function cut(s, width) {
  s = String(s).replace(/\s+/g, ' ')
  return s.length > width ? s.slice(0, width - 1) + '…' : s
}

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => cells.map((c, i) => (align[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd()
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n')
}

// `Window.leakyHolder → Array[3] → Leaky`: each step names the node, then the edge taken from it.
// A step that repeats shows once with its count (`PendingRetry.next ×8,299`), a run of steps that
// repeats in parentheses (`(undo.context → system / Context.prev) ×180`); an edge that is Node's
// own machinery (a timer list) is marked `°`.
function stepText(s, last) {
  const name = s.name || `(${s.type})`
  return last ? cut(name, 60) : `${cut(name, 40)}.${edgeLabel(s)}${s.internal ? '°' : ''}`
}

function pathText(steps) {
  if (!steps || steps.length === 0) return ''
  const parts = []
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]
    const span = s.repeat > 1 ? Math.max(1, s.repeatSteps || 1) : 1
    const run = steps.slice(i, i + span).map((x, j) => stepText(x, i + j === steps.length - 1))
    if (s.repeat > 1) parts.push(span > 1 ? `(${run.join(' → ')}) ×${int(s.repeat)}` : `${run[0]} ×${int(s.repeat)}`)
    else parts.push(run[0])
    i += span - 1
  }
  return parts.join(' → ')
}

const hasInternal = (steps) => Boolean(steps && steps.some((s) => s.internal))

// A script URL short enough for a table: file:// URLs as paths, paths under the working directory
// relative to it, the rest cut to their last segments (`…/dist/socket.js`). node:internal/… stays.
function shortUrl(url, { cwd = process.cwd(), width = 50 } = {}) {
  let u = String(url || '')
  if (u.startsWith('file://')) {
    try { u = fileURLToPath(u) } catch { /* not a file path after all: leave it */ }
  }
  if (cwd && path.isAbsolute(u)) {
    const rel = path.relative(cwd, u)
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) u = rel
  }
  if (u.length <= width) return u
  const parts = u.split(/[/\\]/)
  let tail = parts.pop()
  while (parts.length && tail.length + parts[parts.length - 1].length + 3 <= width) tail = `${parts.pop()}/${tail}`
  return tail.length + 2 <= width ? `…/${tail}` : `…${tail.slice(tail.length - width + 1)}`
}

// `lib/jobs.js:15:28`: where a function or a class instance's constructor is defined (1-based, as
// a stack trace); '' without a location
function locationText(loc, opts) {
  if (!loc) return ''
  return `${shortUrl(loc.url, opts) || '(unnamed script)'}:${loc.line}:${loc.column}`
}

// a table's `at` column, only when some row has a location (older reports, internals: none)
function atColumn(rows) {
  return rows.some((x) => x.location) ? (x) => [x.location ? `at ${locationText(x.location)}` : ''] : null
}

function edgeLabel(step) {
  return step.edgeType === 'element' || step.edgeType === 'hidden' || /^\d+$/.test(step.edge) ? `[${step.edge}]` : step.edge
}

// A report made in the capture's own pass was read while V8 wrote the snapshot: its read time is
// V8's writing time, not a parse of a file
function readText(t) {
  const ms = int(Math.round(t.parseMs))
  return t.duringCapture ? `read while V8 wrote it: ${ms} ms` : `parsed in ${ms} ms`
}

function formatReport(r, { classes = 15 } = {}) {
  const s = r.snapshot
  const out = []
  out.push(`heap snapshot: ${int(s.nodes)} nodes, ${int(s.edges)} edges, ${bytes(s.totalSize)} in total` +
    (s.unreachableSize ? `, ${bytes(s.unreachableSize)} unreachable` : '') +
    `  (${readText(r.timings)}, analyzed in ${int(Math.round(r.timings.analyzeMs))} ms)`)
  out.push('')
  out.push('Biggest retainers (retained size: what would be freed if the object went away)')
  const topAt = atColumn(r.top)
  out.push(table(['#', 'retained', 'self', 'dist', 'object', ...(topAt ? ['defined'] : [])],
    r.top.map((t, i) => [i + 1, bytes(t.retainedSize), bytes(t.selfSize), t.distance, cut(`${t.name} @${t.id} (${t.type})`, 60), ...(topAt ? topAt(t) : [])]),
    ['r', 'r', 'r', 'r', 'l', 'l']))
  const withPaths = r.top.filter((t) => t.path && t.path.length)
  if (withPaths.length) {
    out.push('')
    out.push('Retainer paths from the GC roots')
    withPaths.forEach((t) => out.push(`  ${cut(t.name, 40)} @${t.id}: ${pathText(t.path)}`))
    if (withPaths.some((t) => hasInternal(t.path))) out.push('  (° an edge of Node\'s own machinery: timers, streams)')
  }
  out.push('')
  out.push('Classes by retained size')
  out.push(table(['retained', 'self', 'count', 'class'],
    r.classes.slice(0, classes).map((c) => [bytes(c.retainedSize), bytes(c.selfSize), int(c.count), cut(c.name, 70)]),
    ['r', 'r', 'r', 'l']))
  return out.join('\n')
}

module.exports = { formatReport, bytes, int, cut, table, pathText, shortUrl, locationText }

const signed = (n, f) => (n > 0 ? '+' : n < 0 ? '-' : '') + f(Math.abs(n))

// `Socket.acks`: the holder and the edge from it that keeps the leaking objects alive
// (`SessionStore.sessions[*] (4,000 keys)`: the keys are data, summarised)
function holderText(h) {
  if (!h || !h.name) return '(GC roots)'
  return (h.edge ? `${h.name}.${h.edge}` : h.name) + (h.keys ? ` (${int(h.keys)} keys)` : '')
}

// `300 → 750 → 1,200`; the class's counts beside the group's own when they differ
const perSnapshot = (counts, sep = ' → ') => (counts || []).map(int).join(sep)
const sameCounts = (a, b) => !b || (a.length === b.length && a.every((x, i) => x === b[i]))

function formatComparison(c, { classes = 15 } = {}) {
  const out = []
  const roles = c.snapshots.map((s) => `${s.role} ${int(s.nodes)} nodes / ${bytes(s.totalBytes)}`).join(', ')
  out.push(`compared ${c.snapshots.length} snapshots: ${roles}`)
  out.push(`heap growth: ${signed(c.growth.bytes, bytes)}, ${signed(c.growth.objects, int)} objects` +
    `  (parsed in ${int(Math.round(c.timings.parseMs))} ms, analyzed in ${int(Math.round(c.timings.analyzeMs))} ms)`)
  out.push('')
  if (c.leak) {
    const s = c.suspects[0]
    out.push(`LEAK: ${int(s.count)} ${s.name} objects (${bytes(s.retainedSize)} retained) held by ${holderText(s.holder)},` +
      ` growing ${perSnapshot(s.counts)}` + (sameCounts(s.counts, s.classCounts) ? '' : ` (class: ${perSnapshot(s.classCounts)})`))
    if (s.location) out.push(`  ${s.name} at ${locationText(s.location)}`)
  } else {
    out.push(`no leak: no group of new objects kept growing past the threshold (${bytes(c.threshold.bytes)}, ${int(c.threshold.count)} objects)`)
  }
  if (c.suspects.length) {
    out.push('')
    out.push(c.snapshots.length === 3
      ? 'Suspects: objects allocated after the baseline, alive in the target and still alive in the final snapshot'
      : 'Suspects: objects allocated after the baseline and alive in the target')
    const suspectAt = atColumn(c.suspects)
    const withClass = c.suspects.some((s) => s.classCounts)
    out.push(table(['#', 'retained', 'count', 'group per snapshot', ...(withClass ? ['class per snapshot'] : []), 'object', 'held by', ...(suspectAt ? ['defined'] : [])],
      c.suspects.map((s, i) => [i + 1, bytes(s.retainedSize), int(s.count), `${perSnapshot(s.counts, '→')}${s.leak ? ' LEAK' : s.vmHeld ? ' (held by V8)' : s.growing ? '' : ' flat'}`,
        ...(withClass ? [perSnapshot(s.classCounts, '→')] : []), cut(s.name, 40), cut(holderText(s.holder), 40), ...(suspectAt ? suspectAt(s) : [])]),
      ['r', 'r', 'r', 'l', ...(withClass ? ['l'] : []), 'l', 'l', 'l']))
    const withPaths = c.suspects.filter((s) => s.path && s.path.length).slice(0, 5)
    if (withPaths.length) {
      out.push('')
      out.push('Retainer paths from the GC roots (largest object of each group)')
      withPaths.forEach((s) => out.push(`  ${cut(s.name, 40)}: ${pathText(s.path)}`))
      if (withPaths.some((s) => hasInternal(s.path))) out.push('  (° an edge of Node\'s own machinery: timers, streams)')
    }
  }
  if (c.classes.length) {
    out.push('')
    out.push('Classes by size change (DevTools Comparison view)')
    out.push(table(['size Δ', 'count Δ', 'new', 'deleted', 'class'],
      c.classes.slice(0, classes).map((r) => [signed(r.sizeDelta, bytes), signed(r.countDelta, int), int(r.new), int(r.deleted), cut(r.name, 60)]),
      ['r', 'r', 'r', 'r', 'l']))
  }
  return out.join('\n')
}

module.exports.formatComparison = formatComparison
module.exports.holderText = holderText
