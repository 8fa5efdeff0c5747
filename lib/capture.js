'use strict'
// capture(): the snapshot leaves V8 as a stream into our Rust threads, which gzip it to disk.
const v8 = require('node:v8')
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { performance } = require('node:perf_hooks')
const native = require('./native')
const { LeakprobeError, fromNative, invalidArg } = require('./errors')
const { analyzeOptions } = require('./analyze')
const { wholeNumber } = require('./options')
const { noteCapture } = require('./admin/memory')
const { ensurePrivateDir, userDir } = require('./private-dir')

const METHODS = ['auto', 'fifo', 'inspector', 'stream']
// `<os.tmpdir()>/leakprobe-<uid>`: this user's own (see lib/private-dir.js)
const DEFAULT_DIR = userDir()

// Sortable and file-name safe: 2026-11-24T19-10-00-123Z-1a2b3c4d
function newId() {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(4).toString('hex')}`
}

function checkOptions(opts) {
  if (opts === undefined || opts === null) opts = {}
  if (typeof opts !== 'object') throw invalidArg(`capture(options): options must be an object, got ${typeof opts}`)
  const { dir = DEFAULT_DIR, gzip = true, level = 3, method = 'auto', analyze = false, redact = false } = opts
  if (typeof dir !== 'string' || dir === '') throw invalidArg('capture(): `dir` must be a non-empty string (a directory path)')
  if (typeof gzip !== 'boolean') throw invalidArg('capture(): `gzip` must be true or false')
  wholeNumber('capture(): `level` (the gzip level)', level, { min: 1, max: 9 })
  if (!METHODS.includes(method)) throw invalidArg(`capture(): \`method\` must be one of ${METHODS.join(', ')}`)
  if (typeof analyze !== 'boolean') throw invalidArg('capture(): `analyze` must be true or false')
  if (typeof redact !== 'boolean') throw invalidArg('capture(): `redact` must be true or false')
  let analyzeOpts
  if (analyze) {
    const { onProgress, ...a } = analyzeOptions({ top: opts.top, paths: opts.paths, classes: opts.classes }, 'capture')
    analyzeOpts = a
  }
  const resolved = path.resolve(dir)
  // the default is in the shared temp dir: it must be this user's and nobody else's
  if (resolved === DEFAULT_DIR) ensurePrivateDir(resolved, { what: "leakprobe's default capture directory" })
  return { dir: resolved, gzip, level, method, analyze: analyzeOpts, redact }
}

function pickMethod(method) {
  if (method !== 'auto') return method
  return process.platform === 'win32' ? 'inspector' : 'fifo'
}

// Each feeder hands V8's output to `cap` and returns the main-thread time it held (ms).
const feeders = {
  fifo(cap) {
    const fifo = cap.attachFifo()
    const t = performance.now()
    v8.writeHeapSnapshot(fifo)
    return performance.now() - t
  },
  async inspector(cap) {
    const inspector = require('node:inspector')
    const session = new inspector.Session()
    session.connect()
    const elu = performance.eventLoopUtilization()
    try {
      session.on('HeapProfiler.addHeapSnapshotChunk', (m) => { cap.push(m.params.chunk) })
      // Node ≤ 20 dispatches an in-process session synchronously (every chunk arrives before
      // post() returns); Node 22+ dispatches on later ticks: wait for the reply either way.
      await new Promise((resolve, reject) => {
        session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, (err) => err ? reject(err) : resolve())
      })
    } finally {
      session.disconnect()
    }
    return performance.eventLoopUtilization(elu).active
  },
  async stream(cap) {
    const elu = performance.eventLoopUtilization()
    // flowing mode: Node 18's snapshot stream stalls after its first chunk when pulled
    // (`for await`, read()), and the process then exits with the capture unfinished
    await new Promise((resolve, reject) => {
      const stream = v8.getHeapSnapshot()
      stream.on('data', (chunk) => cap.push(chunk))
      stream.once('end', resolve)
      stream.once('error', reject)
    })
    return performance.eventLoopUtilization(elu).active
  },
}

async function capture(options) {
  const opts = checkOptions(options)
  const id = newId()
  const started = performance.now()
  let cap
  try {
    // With redact, the capture stays under its hidden temp name until a redacted copy has the
    // final name (src/capture): no listable file ever holds the secrets. The report is made from
    // the redacted file (the contents of strings are names in a report).
    cap = new native.NativeCapture({ dir: opts.dir, id, gzipLevel: opts.gzip ? opts.level : undefined, analyze: opts.redact ? undefined : opts.analyze, redact: opts.redact })
  } catch (e) {
    throw fromNative(e)
  }
  const method = pickMethod(opts.method)
  // heap in use as snapshotRoom() sees it (before the snapshot's GC): with the node count, the
  // average object size its next estimates start from
  const heapUsed = v8.getHeapStatistics().used_heap_size
  let blockedMs
  try {
    blockedMs = await feeders[method](cap)
  } catch (e) {
    cap.abort(`V8 could not write the heap snapshot (${method}): ${e && e.message}`)
    await Promise.all([cap.finish().catch(() => {}), releaseFreedMemory()])
    throw new LeakprobeError('ERR_LEAKPROBE_CAPTURE', `V8 could not write the heap snapshot (${method}): ${e && e.message}`, { cause: e })
  }
  // V8 has freed its snapshot structures: their pages go back while the file is finished
  const released = releaseFreedMemory()
  let out
  try {
    out = await cap.finish()
  } catch (e) {
    await released
    throw fromNative(e)
  }
  if (out.nodes == null) {
    // bytes, but not a heap snapshot's: never report that as a capture
    await fs.promises.rm(out.file, { force: true })
    await released
    throw new LeakprobeError('ERR_LEAKPROBE_CAPTURE', `V8's output (${out.bytes} bytes, ${method}) has no heap snapshot header; nothing was saved`)
  }
  const result = {
    id,
    file: out.file,
    bytes: out.bytes,
    compressedBytes: out.compressedBytes,
    nodes: out.nodes == null ? null : out.nodes,
    durationMs: round(performance.now() - started),
    blockedMs: round(blockedMs),
    releasedBytes: await released,
    method,
  }
  noteCapture({ heapUsed, nodes: result.nodes })
  if (opts.redact) {
    result.redactedStrings = out.redactedStrings
    if (opts.analyze) result.report = await require('./analyze').analyze(out.file, opts.analyze)
    return result
  }
  if (opts.analyze) {
    if (out.reportError) {
      // The file is complete; only the same-pass analysis failed. Hand both to the caller.
      throw new LeakprobeError('ERR_LEAKPROBE_SNAPSHOT', `the snapshot was captured to ${out.file} but could not be analyzed: ${out.reportError}`, out.reportErrorOffset == null ? { capture: result } : { capture: result, offset: out.reportErrorOffset })
    }
    result.report = JSON.parse(out.report)
    result.report.timings.duringCapture = true
  }
  return result
}

const round = (ms) => Math.round(ms * 10) / 10

// glibc keeps what V8's snapshot structures freed (~400 B per heap object) in its arenas: the
// process would stay at the capture's peak RSS. → the bytes of RSS given back (0 if unknown).
function releaseFreedMemory() {
  return native.releaseFreedMemory().then((j) => JSON.parse(j).releasedBytes, () => 0)
}

module.exports = { capture, newId, DEFAULT_DIR }
