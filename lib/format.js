'use strict'
// Plain-text rendering of reports for the terminal.

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
function pathText(steps) {
  if (!steps || steps.length === 0) return ''
  return steps.map((s, i) => (i === steps.length - 1 ? s.name : `${cut(s.name, 40)}.${edgeLabel(s)}`)).join(' → ')
}

function edgeLabel(step) {
  return step.edgeType === 'element' || step.edgeType === 'hidden' ? `[${step.edge}]` : step.edge
}

function formatReport(r, { classes = 15 } = {}) {
  const s = r.snapshot
  const out = []
  out.push(`heap snapshot: ${int(s.nodes)} nodes, ${int(s.edges)} edges, ${bytes(s.totalSize)} in total` +
    (s.unreachableSize ? `, ${bytes(s.unreachableSize)} unreachable` : '') +
    `  (parsed in ${int(Math.round(r.timings.parseMs))} ms, analyzed in ${int(Math.round(r.timings.analyzeMs))} ms)`)
  out.push('')
  out.push('Biggest retainers (retained size: what would be freed if the object went away)')
  out.push(table(['#', 'retained', 'self', 'dist', 'object'],
    r.top.map((t, i) => [i + 1, bytes(t.retainedSize), bytes(t.selfSize), t.distance, cut(`${t.name} @${t.id} (${t.type})`, 60)]),
    ['r', 'r', 'r', 'r', 'l']))
  const withPaths = r.top.filter((t) => t.path && t.path.length)
  if (withPaths.length) {
    out.push('')
    out.push('Retainer paths from the GC roots')
    withPaths.forEach((t) => out.push(`  ${cut(t.name, 40)} @${t.id}: ${pathText(t.path)}`))
  }
  out.push('')
  out.push('Classes by retained size')
  out.push(table(['retained', 'self', 'count', 'class'],
    r.classes.slice(0, classes).map((c) => [bytes(c.retainedSize), bytes(c.selfSize), int(c.count), cut(c.name, 70)]),
    ['r', 'r', 'r', 'l']))
  return out.join('\n')
}

module.exports = { formatReport, bytes, int, cut, table, pathText }
