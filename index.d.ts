// Types for leakprobe's public API.

export type LeakprobeErrorCode =
  | 'ERR_LEAKPROBE_INVALID_ARG'
  | 'ERR_LEAKPROBE_DIR'
  | 'ERR_LEAKPROBE_BUSY'
  | 'ERR_LEAKPROBE_WRITE'
  | 'ERR_LEAKPROBE_CAPTURE'
  | 'ERR_LEAKPROBE_SNAPSHOT'
  | 'ERR_LEAKPROBE_NATIVE'
  | 'ERR_LEAKPROBE_INTERNAL'

/** Every leakprobe function rejects with this: `code` says what failed, `message` what to do. */
export class LeakprobeError extends Error {
  code: LeakprobeErrorCode
}

export interface CaptureOptions {
  /** Where the snapshot goes. Created (mode 0700) if missing; its parent must exist. Default: `<os.tmpdir()>/leakprobe`. */
  dir?: string
  /** gzip the snapshot on a background thread (default true). `false` writes a plain `.heapsnapshot`. */
  gzip?: boolean
  /** gzip level 1-9 (default 3: ~5.6x smaller, ~125 MB/s, far faster than V8 writes). */
  level?: number
  /**
   * How the snapshot leaves V8 (default `'auto'`: `'fifo'` on Unix, `'inspector'` on Windows).
   * `'fifo'`: `v8.writeHeapSnapshot` into a FIFO read by our thread; `'inspector'`: the inspector's
   * chunk events; `'stream'`: `v8.getHeapSnapshot()` (kept for comparison; it buffers the whole
   * snapshot in memory). See BENCHMARKS.md.
   */
  method?: 'auto' | 'fifo' | 'inspector' | 'stream'
}

export interface CaptureResult {
  /** sortable, file-name safe: `2026-11-24T19-10-00-123Z-1a2b3c4d` */
  id: string
  /** absolute path of `<id>.heapsnapshot.gz` (or `.heapsnapshot` with `gzip: false`), mode 0600 */
  file: string
  /** uncompressed snapshot size in bytes */
  bytes: number
  /** size of `file` in bytes */
  compressedBytes: number
  /** node count from the snapshot header (null if V8 did not write one) */
  nodes: number | null
  /** from the call to the renamed, fsynced file */
  durationMs: number
  /** how long the main thread was held (V8 building and serializing the snapshot) */
  blockedMs: number
  method: 'fifo' | 'inspector' | 'stream'
}

/**
 * Captures a heap snapshot of this process, streamed out of V8 and gzipped on a thread of ours;
 * resolves once the file is complete and renamed. One capture at a time per process
 * (`ERR_LEAKPROBE_BUSY`).
 */
export function capture(options?: CaptureOptions): Promise<CaptureResult>

export interface AnalyzeOptions {
  /** how many objects with the largest retained size to list (default 20) */
  top?: number
  /** how many of those get their retainer path from the GC roots (default 5) */
  paths?: number
  /** keep only the first N classes (default: all) */
  classes?: number
}

export interface CaptureAnalyzeOptions extends CaptureOptions, AnalyzeOptions {
  /** analyze the snapshot in the same pass, as it streams out of V8 (default false) */
  analyze?: boolean
}

/** One step of a retainer path: the object, and the edge taken from it to the next step. */
export interface PathStep {
  id: number
  name: string
  type: string
  /** property name or element index; '' on the last step */
  edge: string
  /** 'property' | 'element' | 'context' | 'internal' | 'hidden' | 'shortcut' | '' */
  edgeType: string
}

export interface TopNode {
  /** V8's snapshot object id: stable for one object across snapshots of one process */
  id: number
  name: string
  /** V8's node type: 'object', 'closure', 'array', 'string', 'native', … */
  type: string
  /** DevTools' shallow size (singly-owned backing stores counted with their owner) */
  selfSize: number
  /** what would be freed if this object went away (DevTools' dominator tree) */
  retainedSize: number
  /** edges from the user roots; ≥ 100000000 for objects only V8 itself holds; -5 unreachable */
  distance: number
  /** from the GC-root side to this object; empty past the first `paths` entries */
  path: PathStep[]
}

export interface ClassRow {
  /** DevTools' Summary-view class name, e.g. 'Leaky', '(string)', '{url, body}' */
  name: string
  count: number
  selfSize: number
  retainedSize: number
}

/** `leakprobe-report/1`: see README. */
export interface Report {
  format: 'leakprobe-report/1'
  snapshot: { nodes: number; edges: number; totalSize: number; unreachableSize: number }
  timings: { parseMs: number; analyzeMs: number }
  top: TopNode[]
  classes: ClassRow[]
}

/**
 * Parses and analyzes a heap snapshot (path to a .heapsnapshot or .heapsnapshot.gz, a Buffer of
 * either, or a capture() result) on a thread of leakprobe's own; the event loop stays free.
 * Rejects with ERR_LEAKPROBE_SNAPSHOT (naming the byte offset) on malformed input.
 */
export function analyze(input: string | Uint8Array | { file: string }, options?: AnalyzeOptions): Promise<Report>

export function capture(options: CaptureAnalyzeOptions & { analyze: true }): Promise<CaptureResult & { report: Report }>
