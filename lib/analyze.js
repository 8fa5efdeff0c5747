'use strict'
// analyze(): parse + dominators + retained sizes + report, on a Rust thread of ours.
const fs = require('node:fs')
const path = require('node:path')
const native = require('./native')
const { LeakprobeError, fromNative, invalidArg } = require('./errors')
const { progressOption, withProgress } = require('./task-progress')
const { wholeNumber } = require('./options')

function analyzeOptions(opts, fn = 'analyze') {
  if (opts === undefined || opts === null) opts = {}
  if (typeof opts !== 'object') throw invalidArg(`${fn}(): options must be an object`)
  const count = (name, dflt) => wholeNumber(`${fn}(): \`${name}\``, opts[name], { max: 1e6, dflt })
  const top = count('top', 20)
  const paths = count('paths', 5)
  const classes = count('classes', undefined)
  return { top, paths, classes, onProgress: progressOption(fn, opts.onProgress) }
}

// A file path, a capture() result, or the snapshot bytes (plain or gzip).
function resolveInput(input, fn) {
  if (typeof input === 'string') {
    if (input === '') throw invalidArg(`${fn}(): the snapshot path is empty`)
    const file = path.resolve(input)
    let st
    try { st = fs.statSync(file) } catch (e) {
      throw new LeakprobeError('ERR_LEAKPROBE_SNAPSHOT', `cannot open heap snapshot ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`)
    }
    if (!st.isFile()) throw new LeakprobeError('ERR_LEAKPROBE_SNAPSHOT', `${file} is not a file; pass a .heapsnapshot or .heapsnapshot.gz file`)
    return { file }
  }
  if (Buffer.isBuffer(input)) return { buffer: input }
  if (input instanceof Uint8Array) return { buffer: Buffer.from(input.buffer, input.byteOffset, input.byteLength) }
  if (input && typeof input === 'object' && typeof input.file === 'string') return resolveInput(input.file, fn)
  throw invalidArg(`${fn}(): pass a snapshot file path, a capture() result, or a Buffer, got ${input === null ? 'null' : typeof input}`)
}

async function analyze(input, options) {
  const { onProgress, ...opts } = analyzeOptions(options)
  const src = resolveInput(input, 'analyze')
  let json
  try {
    json = src.file
      ? await withProgress(onProgress, (p) => native.analyzeFile(src.file, opts, p))
      : await native.analyzeBuffer(src.buffer, opts)
  } catch (e) {
    throw fromNative(e)
  }
  return JSON.parse(json)
}

module.exports = { analyze, analyzeOptions, resolveInput }
