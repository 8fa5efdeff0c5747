// Types for leakprobe's public API.
import { EventEmitter } from 'node:events'

export type LeakprobeErrorCode =
  | 'ERR_LEAKPROBE_INVALID_ARG'
  | 'ERR_LEAKPROBE_DIR'
  | 'ERR_LEAKPROBE_BUSY'
  | 'ERR_LEAKPROBE_WRITE'
  | 'ERR_LEAKPROBE_CAPTURE'
  | 'ERR_LEAKPROBE_SNAPSHOT'
  | 'ERR_LEAKPROBE_NATIVE'
  | 'ERR_LEAKPROBE_NODE_VERSION'
  | 'ERR_LEAKPROBE_SPILL'
  | 'ERR_LEAKPROBE_SAMPLING'
  | 'ERR_LEAKPROBE_MISSING_PEER'
  /** a monitor's listener threw (emitted as the monitor's `error`) */
  | 'ERR_LEAKPROBE_LISTENER'
  /** a capture method this platform lacks (the FIFO feeder on Windows) */
  | 'ERR_LEAKPROBE_UNSUPPORTED'
  | 'ERR_LEAKPROBE_INTERNAL'

/**
 * The codes of the admin route's JSON errors (`{ error: { code, message } }`) and of the CLI's
 * messages; the API's functions reject with `LeakprobeErrorCode`s.
 */
export type LeakprobeRouteErrorCode =
  | LeakprobeErrorCode
  | 'ERR_LEAKPROBE_UNAUTHORIZED'
  | 'ERR_LEAKPROBE_FORBIDDEN'
  | 'ERR_LEAKPROBE_NOT_FOUND'
  | 'ERR_LEAKPROBE_METHOD'
  | 'ERR_LEAKPROBE_TOO_SOON'
  | 'ERR_LEAKPROBE_NO_MEMORY'
  | 'ERR_LEAKPROBE_DOWNLOAD_OFF'
  | 'ERR_LEAKPROBE_NO_MONITOR'
  | 'ERR_LEAKPROBE_NO_SAMPLING'
  | 'ERR_LEAKPROBE_READ'
  | 'ERR_LEAKPROBE_REMOTE'
  | 'ERR_LEAKPROBE_COMMAND'
  | 'ERR_LEAKPROBE_USAGE'

/** Every leakprobe function rejects with this: `code` says what failed, `message` what to do. */
export class LeakprobeError extends Error {
  code: LeakprobeErrorCode
  /**
   * `ERR_LEAKPROBE_SNAPSHOT`: the byte offset in the decompressed JSON where the snapshot is
   * malformed (the message names it too). Absent when there is none (a file that cannot be opened).
   */
  offset?: number
}

export interface CaptureOptions {
  /**
   * Where the snapshot goes. Created (mode 0700) if missing; its parent must exist. Default:
   * `<os.tmpdir()>/leakprobe-<uid>`, which must be a directory (not a symlink) owned by this uid
   * that neither group nor others can write (else `ERR_LEAKPROBE_DIR`).
   */
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
  /**
   * Replace the contents of string objects in the stored snapshot with `<redacted>` (on our
   * thread once V8 is done; property, class and function names, numbers, sizes, the graph and
   * code stay, so the analysis is unchanged). The capture stays under a hidden, locked temp name
   * until the redacted copy has the final name: the file `<id>.heapsnapshot.gz` never holds the
   * unredacted snapshot, even if the process is killed. Default false. See SECURITY.md.
   */
  redact?: boolean
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
  /**
   * RSS given back to the system after the capture: the C heap keeps what V8's snapshot
   * structures freed (~400 B per heap object) until it is trimmed (0 where it cannot be)
   */
  releasedBytes: number
  method: 'fifo' | 'inspector' | 'stream'
  /** with `redact`: how many strings were replaced */
  redactedStrings?: number
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
  /** called about every 100 ms while a file is read and analyzed, and once at the end ('done') */
  onProgress?: (state: TaskProgressState) => void
}

/** How far analyze()/compare() is; `done`/`total` are bytes of the file while `reading`. */
export interface TaskProgressState {
  phase: 'starting' | 'reading' | 'analyzing' | 'comparing' | 'done'
  /** which snapshot of a comparison (0: baseline, 1: target, 2: final) */
  item: number
  done: number
  total: number
}

export interface CaptureAnalyzeOptions extends CaptureOptions, Omit<AnalyzeOptions, 'onProgress'> {
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
  /**
   * compare() paths: this step repeats this many times in a row (a linked list's `next`:
   * `PendingRetry.next ×8,299`); absent when it does not repeat
   */
  repeat?: number
  /**
   * with `repeat`: the run that repeats is this step and the next `repeatSteps - 1` (a closure
   * and its scope: `(undo.context → system / Context.prev) ×180`); absent for a single step
   */
  repeatSteps?: number
  /** compare() paths: the edge from this step is Node's own machinery (a timer list); absent otherwise */
  internal?: true
}

/**
 * Where a function, or the class of an instance (its constructor), is defined: 1-based line and
 * column as a stack trace and DevTools show them (the sampling profiler's call frame + 1), at the
 * '(' that opens the function's parameters.
 */
export interface SourceLocation {
  /** the script's name as V8 has it: `/srv/app/server.js` (CommonJS), `file:///srv/app/server.mjs` (ESM), `node:internal/…`; '' when the snapshot does not give it (eval'd code) */
  url: string
  line: number
  column: number
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
  /** a closure's or a class instance's source; absent (no key) for nodes without one */
  location?: SourceLocation
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
  /**
   * `duringCapture`: made in the capture's own pass (`capture({ analyze })`), so `parseMs` is the
   * time the snapshot was read while V8 wrote it, not a parse of a file
   */
  timings: { parseMs: number; analyzeMs: number; duringCapture?: true }
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

/** A snapshot file (.heapsnapshot or .heapsnapshot.gz) or a capture() result. */
export type SnapshotInput = string | { file: string }

export interface CompareOptions {
  /**
   * A suspect is a leak when its count kept rising from snapshot to snapshot and it holds at least
   * this much: a byte count (`65536`, `'64kb'`, `'1mb'`) or `{ bytes, count }`.
   * Default `{ bytes: 16384, count: 10 }`.
   */
  threshold?: number | string | { bytes?: number | string; count?: number }
  /** How many suspects to report. Default 10. */
  suspects?: number
  /** Keep the first N class rows. Default: all classes whose objects changed. */
  classes?: number
  /** called about every 100 ms while the snapshots are read and compared, and once at the end */
  onProgress?: (state: TaskProgressState) => void
}

export interface Suspect {
  /** the class (DevTools' Summary name), or `name()` for functions */
  name: string
  /**
   * objects in the group: allocated after the baseline, alive in the target (and still in the
   * final), the same object (id and class) in each; a chain's nodes (a linked list's `next`, a
   * chain of closure scopes) all count
   */
  count: number
  selfSize: number
  /** what the group keeps alive (objects inside another leaked object are counted there) */
  retainedSize: number
  /**
   * the nearest object on the path that existed in the baseline (or is a module scope) and is
   * not a collection, a backing store or part of the group (a scope made in the leaking rounds
   * is part of it), and the named edges from it (`acks`, `_events.request`); keys that are data
   * are summarised (`sessions[*]`, with `keys`: how many keys that dictionary has)
   */
  holder: { id: number; name: string; edge: string; keys?: number }
  /** retainer path of the group's largest object, GC-root side first: through the program's objects before Node's internals; repeated steps collapsed */
  path: PathStep[]
  sampleIds: number[]
  /**
   * the group's own objects per snapshot [baseline, target, final?]: the objects of its kind
   * held by its holder in the last snapshot, counted in each snapshot they were alive in
   */
  counts: number[]
  /** live objects of the group's class (functions: of its name) in each snapshot */
  classCounts: number[]
  /** the group's and the class's counts rose from each snapshot to the next */
  growing: boolean
  /** held straight from V8's machinery (stack, handle scope, compiled code): never the verdict */
  vmHeld: boolean
  /** growing, over both thresholds and not vmHeld */
  leak: boolean
  /**
   * the group's function (closures) or class constructor (instances); the place most of its
   * sample objects share. Absent (no key) for groups without one: plain objects, arrays, strings
   */
  location?: SourceLocation
}

export interface ClassDiff {
  name: string
  countDelta: number
  sizeDelta: number
  new: number
  deleted: number
  newSize: number
  deletedSize: number
}

/** `leakprobe-compare/1`: see README. */
export interface Comparison {
  format: 'leakprobe-compare/1'
  /** the top suspect is a leak */
  leak: boolean
  /** first to last snapshot: total self size and object count */
  growth: { bytes: number; objects: number }
  snapshots: { role: 'baseline' | 'target' | 'final'; nodes: number; totalBytes: number }[]
  threshold: { bytes: number; count: number }
  timings: { parseMs: number; analyzeMs: number }
  /** leaks first, then by retained size (with what other groups hold through the group's members) */
  suspects: Suspect[]
  /** DevTools' Comparison view per class, baseline → last snapshot, by size change */
  classes: ClassDiff[]
  /** check({ keep: true }) only: the snapshot files */
  files?: string[]
}

/**
 * Compares snapshots of one process (ids are stable within a process): what was allocated after
 * the baseline and is still alive, grouped by class and holder, with the verdict. Runs on a
 * thread of leakprobe's own; only the last snapshot is held in full.
 */
export function compare(baseline: SnapshotInput, target: SnapshotInput, final?: SnapshotInput | null, options?: CompareOptions): Promise<Comparison>
export function compare(baseline: SnapshotInput, target: SnapshotInput, options?: CompareOptions): Promise<Comparison>

export interface CheckOptions extends CompareOptions {
  /** rounds of the action before the target, and again before the final snapshot. Default 5. */
  rounds?: number
  /** rounds before the baseline (caches, JIT). Default 2. */
  warmup?: number
  /** where snapshots go; default a fresh temp dir, removed afterwards */
  dir?: string
  /** keep the snapshot files (listed in `files`). Default false. */
  keep?: boolean
}

/**
 * The three-snapshot leak test in this process: warm-up, baseline, `rounds` × action, target,
 * `rounds` × action, final, compare. Default threshold: `{ bytes: 1, count: rounds }` (one object
 * kept per round is a leak). `round` counts from 0 over the whole check, warm-up rounds included:
 * use it to make each round's work its own (new keys, new ids).
 */
export function check(action: (round: number) => unknown | Promise<unknown>, options?: CheckOptions): Promise<Comparison>

export interface MonitorOptions {
  /** sampling interval. Default 10000 ms. */
  intervalMs?: number
  /** intervals in the trend window; `leak` needs a full window. Default 30. */
  window?: number
  /** consecutive rising intervals that make `growth`. Default 3. */
  growthSteps?: number
  /** minimum rise of the post-GC floor over the window for `leak`. Default 1 MiB. */
  minGrowth?: number
  /** rises smaller than this (or 0.2 %) are noise. Default 64 KiB. */
  noise?: number
  /** samples kept in `samples`. Default 720. */
  history?: number
  /** call gc() before each sample (needs --expose-gc; for tests). Default false. */
  gc?: boolean
  /** capture a baseline at `growth` and a target at `leak`, and attach their comparison */
  capture?: boolean | { dir?: string }
  /** have Node write a snapshot near the heap limit; compress and analyze it (also ones left by an earlier run that died) */
  nearHeapLimit?: boolean | { dir?: string; limit?: number }
  /**
   * Run V8's sampling heap profiler and fold it into allocation sites (`sites()`, the `sites` of
   * `growth` / `leak` events): works at any heap size, where a snapshot cannot be taken.
   */
  sampling?: boolean | SamplingOptions
}

export interface SamplingOptions {
  /** one allocation sampled per this many bytes allocated (128 B to 64 MiB). Default 524288 (512 KiB) */
  intervalBytes?: number
  /**
   * least time between reads of the profile. Each read is a full GC (a pause that grows with the
   * heap). Default 60000
   */
  readIntervalMs?: number
  /** reads are spaced so their pauses stay under this share of wall time (0.0001 to 0.5). Default 0.01 */
  budget?: number
  /** allocation sites kept between reads (the largest stay; 10 to 10000). Default 300 */
  maxSites?: number
}

/** A stack frame: 1-based line and column, as a stack trace shows them. */
export interface SiteFrame {
  /** the function's name, `(anonymous)` when it has none */
  fn: string
  /** the script's URL or path (`file:///srv/app/server.js`, `/srv/app/server.js`); '' for native code */
  url: string
  line: number
  column: number
}

/**
 * An allocation site: the first frame of an allocation's stack that is not Node's or V8's own
 * code, with the app's own caller when that frame is in an npm package (one site per caller).
 */
export interface Site extends SiteFrame {
  /** the npm package the site's code is in (innermost node_modules), or null */
  package: string | null
  /** the first frame of the app's own code above a site in a package or in Node's code, or null */
  caller: SiteFrame | null
  /** the first frames of the stack, the allocating one first: `'fn (url:line:column)'` */
  stack: string[]
  /** sampled estimate of the bytes allocated here that are still alive, at the last read */
  liveBytes: number
  /** liveBytes at each read (of the window for `growing`, of the history for `largest`) */
  growth: number[]
  /** `growing` only: its share of the heap floor's rise over those reads (null: the floor did not rise) */
  share?: number | null
}

/** One read of the sampling profile (a full GC, then the profile). */
export interface SitesRead {
  time: number
  /** how long the read held the main thread, GC included */
  pauseMs: number
  /** heap in use right after the read's GC: the floor */
  heapUsed: number
  /** live bytes of all sites together, sampled estimate */
  sampledBytes: number
  /** samples in the profile */
  samples: number
}

/** `monitor.sites()`, the route's `GET /sites`. */
export interface SitesState {
  /** the profiler is sampling (false once stopped, or when it could not start: see `error`) */
  running: boolean
  intervalBytes: number
  /** the reads kept (up to 48) */
  reads: SitesRead[]
  pauseMs: { last: number | null; total: number }
  /** when the next read is due (ms since the epoch), null when not running */
  nextReadAt: number | null
  /**
   * sites whose live bytes rose beyond the sampling's noise in both halves of the monitor's
   * window and never fell back by half, ranked by their rise; a filled cache or a freed burst is
   * not named
   */
  growing: Site[]
  /** sites by live bytes at the last read */
  largest: Site[]
  /** why the profiler is not available (the floor is still watched) */
  error?: { code: 'ERR_LEAKPROBE_SAMPLING'; message: string }
}

export interface MonitorStats {
  time: number
  heapUsed: number
  heapTotal: number
  rss: number
  external: number
  /** lowest heap use after a major GC in the interval (null: no major GC ran) */
  postGcHeapUsed: number | null
  majorGcs: number
  /** trend of the floor, bytes per interval */
  slope: number
  growing: boolean
  /** with `sampling`: reads so far, and this interval's read (null: none was due) */
  sampling?: { reads: number; read: SitesRead | null }
}

export interface MonitorEvent {
  stats: MonitorStats
  floors: number[]
  slope: number
  snapshots?: CaptureResult[]
  comparison?: Comparison
  /** with `sampling`: the growing allocation sites, ranked */
  sites?: Site[]
  /** with `capture`: why no snapshot was taken, e.g. `needs ~1.8 GB, 0.9 GB free` */
  skipped?: string
}

export interface NearHeapLimitSnapshot {
  source: 'near-heap-limit'
  original: string
  pid: number
  file: string
  bytes: number
  compressedBytes: number
  report: Report
}

export declare class Monitor extends EventEmitter {
  readonly running: boolean
  readonly samples: MonitorStats[]
  /** the allocation sites (growing over the window, and largest); null without `sampling` */
  sites(options?: { limit?: number }): SitesState | null
  /**
   * the leak of the current episode: set when the monitor finds it (as `leak` fires), null again
   * when the episode ends (the floor no higher than where the window starts: back down, or flat
   * for a whole window); `sites`: the growing sites then (null without `sampling`)
   */
  readonly leak: { time: number; sites: Site[] | null } | null
  /** the post-GC floor is rising now (an episode of growth has started and not ended) */
  readonly growing: boolean
  /** the monitor's captures (`capture: { dir }`, `nearHeapLimit`) by outcome and reason, since it started */
  readonly captures: MonitorCaptureCounts
  /** the last capture the monitor took itself (at `growth` or `leak`); null before one */
  readonly lastCapture: { time: number; reason: 'growth' | 'leak'; durationMs: number; blockedMs: number } | null
  /** the comparison attached to the last `leak` event, reduced to its top suspect; null before one */
  readonly lastComparison: {
    time: number
    leak: boolean
    suspect: { name: string; holder: { name: string; edge: string } | null; retainedSize: number; count: number } | null
  } | null
  stop(): void
  on(event: 'stats', listener: (s: MonitorStats) => void): this
  on(event: 'growth' | 'leak', listener: (e: MonitorEvent) => void): this
  on(event: 'snapshot', listener: (s: NearHeapLimitSnapshot) => void): this
  on(event: 'error', listener: (e: LeakprobeError) => void): this
  on(event: 'stop', listener: () => void): this
}

/** Post-GC heap samples with `growth` / `leak` events; one observer and one unref'd timer. */
export function monitor(options?: MonitorOptions): Monitor

/**
 * taken: `growth` (the baseline), `leak` (the target), `near_heap_limit` (Node's own snapshot,
 * gzipped); skipped: `no_memory` (it would not fit), `in_progress` (the last one had not
 * finished), `no_baseline` (a leak with no baseline to compare with); failed, by the error:
 * `busy` (another capture in this process), `dir`, `write`, `capture`, `other`
 */
export interface MonitorCaptureCounts {
  taken: { growth: number; leak: number; near_heap_limit: number }
  skipped: { no_memory: number; in_progress: number; no_baseline: number }
  failed: { busy: number; dir: number; write: number; capture: number; other: number }
}

/** The parts of a prom-client `Registry` leakprobe uses. */
export interface PromRegistryLike {
  registerMetric(metric: unknown): void
  removeSingleMetric(name: string): void
  getSingleMetric(name: string): unknown
  metrics(): Promise<string>
}

/** The parts of an @opentelemetry/api `Meter` leakprobe uses (observable instruments only). */
export interface OtelMeterLike {
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): unknown
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): unknown
  addBatchObservableCallback(callback: (observer: any) => void, observables: unknown[]): void
  removeBatchObservableCallback(callback: (observer: any) => void, observables: unknown[]): void
}

interface MetricsCommonOptions {
  /**
   * the most allocation sites exposed (`leakprobe_site_*`, with `sampling`): the growing ones
   * first, then the largest. 0 to 100, default 10
   */
  sites?: number
}

export type MetricsOptions = MetricsCommonOptions & (
  /** a prom-client Registry, or `true` for prom-client's default `register` */
  | { prometheus: PromRegistryLike | true; openTelemetry?: undefined }
  /** an @opentelemetry/api Meter, or `true` for the global meter provider's meter `leakprobe` */
  | { openTelemetry: OtelMeterLike | true; prometheus?: undefined }
)

export interface MetricsHandle {
  /** the metric names registered (Prometheus names, or the OpenTelemetry instruments' names) */
  readonly names: string[]
  /** unregisters: prom-client `removeSingleMetric`, OpenTelemetry `removeBatchObservableCallback` */
  stop(): void
  /** the same as stop() */
  close(): void
}

/**
 * The monitor's leak signals as metrics in the application's own registry or meter, read from
 * the monitor when it is scraped (nothing runs between scrapes): `leakprobe_heap_floor_bytes`,
 * `leakprobe_heap_floor_growth_bytes_per_hour`, `leakprobe_leak`, `leakprobe_site_live_bytes`,
 * `leakprobe_captures_total`, … (README, Metrics). `prom-client` and `@opentelemetry/api` are
 * optional peers: asking for one that is not installed throws ERR_LEAKPROBE_MISSING_PEER.
 */
export function metrics(monitor: Monitor, options: MetricsOptions): MetricsHandle

export interface RouteOptions {
  /**
   * required (or LEAKPROBE_TOKEN): 16+ characters of printable ASCII without spaces (`!` to `~`),
   * sent as `Authorization: Bearer <token>`
   */
  token?: string
  /**
   * where snapshots are kept. It must be a directory (not a symlink) owned by this process's uid
   * that neither group nor others can write; created (0700) if missing, its parent must exist;
   * checked at setup (`ERR_LEAKPROBE_DIR`) and before each use. Default, private to this user and
   * this app: `<os.tmpdir()>/leakprobe-<uid>/route-<hash of the main module's path and the cwd>`
   */
  dir?: string
  /**
   * bare addresses and CIDR blocks allowed to call (IPv4/IPv6; one or a list), kept by
   * `net.BlockList`. A malformed entry throws ERR_LEAKPROBE_INVALID_ARG at setup. Default loopback
   */
  allow?: string | string[]
  /**
   * trust X-Forwarded-For (its last hop) from any peer (`true`) or from these proxy addresses or
   * blocks; a last hop that is not a bare address is refused (403)
   */
  trustProxy?: boolean | string | string[]
  /** serve raw snapshots at GET /snapshots/:id. Default false */
  allowDownload?: boolean
  /** capture with `redact: true`. Default false */
  redact?: boolean
  /** minimum time between captures. Default 60000 */
  minIntervalMs?: number
  /**
   * refuse (503) when free memory is below heap in use × this. Default: no factor — the need is
   * estimated from the heap's object count (see `snapshotRoom()`)
   */
  memoryFactor?: number
  /** snapshots kept (oldest removed first). Default 10 */
  keep?: number
  /** bytes of snapshots kept. Default unlimited */
  maxBytes?: number
  /**
   * a running monitor: its samples, state and (with `sampling`) allocation sites feed GET /stats,
   * GET /sites, GET /metrics (Prometheus text) and the report's chart and sites
   */
  monitor?: Monitor
  /** entries in a report's `top`. Default 20 */
  top?: number
  /**
   * hears of every failure on the server's side (5xx, 422, a download cut off) with the full
   * error — paths, Node's codes. Clients only get `{ error: { code, message } }` without them.
   * Default: `process.emitWarning` (a `LeakprobeWarning` on stderr). A hook that throws is ignored.
   */
  onError?: (err: Error, where: { method: string; path: string }) => void
}

export interface SnapshotRoomOptions {
  /** the heap in use to size the snapshot for, in bytes. Default: this process's, now */
  heapUsed?: number
  /** need = factor × heapUsed instead of the object-count estimate */
  factor?: number
}

export interface SnapshotRoom {
  /** need ≤ available */
  ok: boolean
  /** bytes of RSS a heap snapshot would add: objects × 450 (V8's structures), or factor × heap */
  need: number
  /** bytes free: the least of MemAvailable and the room under this process's cgroup limits */
  available: number
  /** estimated heap objects: heapUsed / bytesPerObject */
  objects: number
  /** average heap object size the estimate used */
  bytesPerObject: number
  /**
   * where bytesPerObject comes from: this process's last capture (heap used / its node count),
   * a small-object default (40 B: ~11x the heap), or `factor` was given
   */
  basis: 'capture' | 'default' | 'factor'
  /** what `available` is: the machine's free memory, or the room under a cgroup memory limit */
  limitedBy: 'memory' | 'cgroup'
  /** e.g. `needs ~1.8 GB, 0.9 GB free` (`… free under the cgroup memory limit`) */
  text: string
}

/**
 * Whether a heap snapshot fits in memory now: the admin route's and the monitor's rule. Limits on
 * this process's cgroup and its ancestors (v1 and v2) count, as does the machine's MemAvailable.
 */
export function snapshotRoom(options?: SnapshotRoomOptions): SnapshotRoom

type NodeRequest = import('node:http').IncomingMessage
type NodeResponse = import('node:http').ServerResponse

/** The admin route for node:http. With `prefix`, requests outside it go to `next` (or get 404). */
export function handler(options: RouteOptions & { prefix?: string }): (req: NodeRequest, res: NodeResponse, next?: () => void) => void
/** The admin route as express (4 or 5) middleware: `app.use('/_leakprobe', leakprobe.express({ token }))`. */
export function express(options: RouteOptions): (req: NodeRequest, res: NodeResponse, next: (err?: unknown) => void) => void
/** The text the CLI prints for a report (analyze()) or a comparison (compare(), check()). */
export function format(what: Report | Comparison): string

/**
 * The self-contained HTML report for a report and/or a comparison, or allocation sites
 * (`monitor.sites()`: where the growing memory is allocated), with the monitor's samples.
 */
export function renderHtml(what: { report?: Report; comparison?: Comparison; samples?: MonitorStats[]; sites?: SitesState | null; title?: string }): string
