'use strict'
// A strict reader of Prometheus text exposition (format 0.0.4) for the tests: every sample line
// must parse, label values are unescaped, and HELP / TYPE come before a family's samples.
//   parse(text) → { families: Map(name → { help, type }), samples: [{ name, labels, value }] }
const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/y

function parse(text) {
  const families = new Map()
  const samples = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (m) {
      const f = families.get(m[2]) || {}
      f[m[1].toLowerCase()] = m[3]
      families.set(m[2], f)
      continue
    }
    if (line.startsWith('#')) continue
    m = LINE.exec(line)
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`)
    const labels = {}
    if (m[2] !== undefined && m[2] !== '') {
      LABEL.lastIndex = 0
      while (LABEL.lastIndex < m[2].length) {
        const l = LABEL.exec(m[2])
        if (!l) throw new Error(`bad labels: ${JSON.stringify(m[2])}`)
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c))
      }
    }
    const family = families.get(m[1]) || families.get(m[1].replace(/_total$/, ''))
    if (!family || !family.type) throw new Error(`${m[1]}: a sample before its # TYPE`)
    const value = m[3] === 'NaN' ? NaN : m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3])
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`)
    samples.push({ name: m[1], labels, value })
  }
  return { families, samples }
}

// the samples named `name` (whose labels include `labels`)
function find(parsed, name, labels = {}) {
  return parsed.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

// the one value of `name`, or undefined
function value(parsed, name, labels) {
  const s = find(parsed, name, labels)
  if (s.length > 1) throw new Error(`${name}: ${s.length} series`)
  return s.length ? s[0].value : undefined
}

// a sorted, comparable list of every sample: `name{k="v",…} value`
function canonical(parsed) {
  return parsed.samples.map((s) => `${s.name}{${Object.keys(s.labels).sort().map((k) => `${k}=${JSON.stringify(s.labels[k])}`).join(',')}} ${s.value}`).sort()
}

module.exports = { parse, find, value, canonical }
