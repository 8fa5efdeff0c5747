'use strict'
// Prometheus text exposition format 0.0.4, without prom-client: what the route's GET /metrics
// serves and `leakprobe watch --metrics` prints, from the table in definitions.js.
const { collect } = require('./definitions')

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

// a label value: backslash, double quote and line feed are escaped
const escapeLabel = (v) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
// HELP text: backslash and line feed
const escapeHelp = (v) => String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

function value(v) {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

function labelText(labels) {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return parts.length ? `{${parts.join(',')}}` : ''
}

// [{ def, samples }] → the text, HELP and TYPE for every family
function render(families) {
  const lines = []
  for (const { def, samples } of families) {
    lines.push(`# HELP ${def.name} ${escapeHelp(def.help)}`)
    lines.push(`# TYPE ${def.name} ${def.type}`)
    for (const s of samples) lines.push(`${def.name}${labelText(s.labels)} ${value(s.value)}`)
  }
  return `${lines.join('\n')}\n`
}

// the monitor's metrics now, as Prometheus text
function metricsText(monitor, opts) {
  return render(collect(monitor, opts))
}

module.exports = { render, metricsText, escapeLabel, escapeHelp, CONTENT_TYPE }
