'use strict'
// compare(): baseline / target / final snapshots → leak suspects with their holders, on a Rust
// thread of ours. Only the last snapshot is held in full; the others are reduced as they are read.
const native = require('./native')
const { fromNative, invalidArg } = require('./errors')
const { resolveInput } = require('./analyze')
const { progressOption, withProgress } = require('./task-progress')
const { isNumber, wholeNumber } = require('./options')

const UNITS = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 }
const DEFAULT_THRESHOLD = { bytes: 16 * 1024, count: 10 }

// `65536`, `'64kb'`, `'1.5 MB'` → bytes
function parseBytes(v, what) {
  if (isNumber(v, 0)) return Math.floor(v)
  const m = typeof v === 'string' && /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)?\s*$/i.exec(v)
  if (!m) throw invalidArg(`${what} must be a byte count such as 65536, '64kb' or '1mb', got ${JSON.stringify(v)}`)
  return Math.floor(Number(m[1]) * UNITS[(m[2] || 'b').toLowerCase()])
}

// `threshold`: a byte count, or `{ bytes, count }`: a suspect is a leak when it keeps growing
// and holds at least this many bytes and objects.
function thresholdOf(t, fn) {
  if (t === undefined) return { ...DEFAULT_THRESHOLD }
  if (typeof t === 'number' || typeof t === 'string') return { bytes: parseBytes(t, `${fn}(): \`threshold\``), count: DEFAULT_THRESHOLD.count }
  if (t === null || typeof t !== 'object') throw invalidArg(`${fn}(): \`threshold\` must be a byte count or { bytes, count }`)
  const bytes = t.bytes === undefined ? DEFAULT_THRESHOLD.bytes : parseBytes(t.bytes, `${fn}(): \`threshold.bytes\``)
  const count = wholeNumber(`${fn}(): \`threshold.count\``, t.count, { dflt: DEFAULT_THRESHOLD.count })
  return { bytes, count }
}

// `'64kb,100'` (the CLI's --threshold, the route's ?threshold=) → `{ bytes, count }` for thresholdOf
function thresholdFromText(text) {
  const [bytes, count] = String(text).split(',')
  return { bytes, count: count === undefined ? undefined : Number(count) }
}

function compareOptions(opts, fn = 'compare') {
  if (opts === undefined || opts === null) opts = {}
  if (typeof opts !== 'object') throw invalidArg(`${fn}(): options must be an object`)
  const threshold = thresholdOf(opts.threshold, fn)
  const suspects = wholeNumber(`${fn}(): \`suspects\``, opts.suspects, { max: 10000, dflt: 10 })
  const classes = wholeNumber(`${fn}(): \`classes\``, opts.classes)
  return { thresholdBytes: threshold.bytes, thresholdCount: threshold.count, suspects, classes, onProgress: progressOption(fn, opts.onProgress) }
}

function isSnapshotArg(v) {
  return typeof v === 'string' || (v && typeof v === 'object' && typeof v.file === 'string')
}

function snapshotPath(v, role) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
    throw invalidArg(`compare(): the ${role} snapshot must be a file path or a capture() result; write the bytes to a file first`)
  }
  if (!isSnapshotArg(v)) throw invalidArg(`compare(): the ${role} snapshot must be a file path or a capture() result, got ${v === null ? 'null' : typeof v}`)
  return resolveInput(v, 'compare').file
}

// compare(baseline, target[, final][, options])
async function compare(baseline, target, final, options) {
  if (options === undefined && final !== undefined && final !== null && !isSnapshotArg(final) && !Buffer.isBuffer(final)) {
    options = final
    final = undefined
  }
  const { onProgress, ...opts } = compareOptions(options)
  const files = [snapshotPath(baseline, 'baseline'), snapshotPath(target, 'target')]
  if (final !== undefined && final !== null) files.push(snapshotPath(final, 'final'))
  let json
  try {
    json = await withProgress(onProgress, (p) => native.compareFiles(files, opts, p))
  } catch (e) {
    throw fromNative(e)
  }
  return JSON.parse(json)
}

module.exports = { compare, compareOptions, parseBytes, thresholdOf, thresholdFromText, DEFAULT_THRESHOLD }
