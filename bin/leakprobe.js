#!/usr/bin/env node
'use strict'
// leakprobe CLI. Exit codes: 0 ok, 1 leak found (compare/check/watch), 2 error (message on stderr).
const path = require('node:path')
const { parseArgs } = require('node:util')
const { isNumber, isWholeNumber } = require('../lib/options')

const USAGE = `usage: leakprobe <command> [options]

commands:
  analyze FILE [--json | --html OUT] [--top N] [--paths N] [--classes N]
                                 analyze a .heapsnapshot(.gz): biggest retainers with their
                                 retainer paths, and classes by retained size (--json: the report)
  compare BASELINE TARGET [FINAL] [--json | --html OUT] [--threshold BYTES[,COUNT]] [--suspects N]
                                 what grew between snapshots of one process and who holds it;
                                 exit 1 when a group of new objects keeps growing past the
                                 threshold (default 16kb,10), 0 when not
  capture --url URL [--token T] [--out DIR] [--no-download] [--json | --html OUT]
                                 capture and analyze through a running app's route
                                 (leakprobe.express() / handler()); writes DIR/<id>.report.json and,
                                 when the route allows it, DIR/<id>.heapsnapshot.gz
  check (--url URL | --start CMD [--port P]) [--token T] [--rounds N] [--warmup CMD]
        [--threshold BYTES[,COUNT]] [--json | --html OUT] [--out DIR] -- LOAD COMMAND
                                 the leak test of a load test: baseline snapshot, LOAD COMMAND,
                                 target, LOAD COMMAND, final, compared in the app; exit 1 on a
                                 leak, 0 when clean. --start runs the app with $PORT and
                                 $LEAKPROBE_TOKEN set and stops it at the end
  watch --url URL [--token T] [--interval S] [--duration S] [--json] [--metrics]
                                 poll a running app's route (GET /stats) every S seconds (10): a
                                 line per poll with the heap floor after GC, its slope and the top
                                 growing allocation sites (the route's monitor({ sampling: true }));
                                 exit 1 with the sites, their stacks and callers as soon as the
                                 app's monitor reports a leak, 0 when --duration (600 s) ends
                                 without one. --json: one JSON object per line. --metrics: print
                                 the route's GET /metrics (Prometheus text) at each poll instead
  open --url URL [--token T] [ID | BASELINE TARGET FINAL] [--out FILE] [--no-browser]
                                 read a running app's report (the latest snapshot's, or ID's)
                                 or comparison in a browser: fetched with the token, which a
                                 browser cannot send, written to a private local page (its path
                                 on stdout) and opened
  demo [--keep] [--requests N]   run a small leaky server on loopback, capture its heap, print the figures
  help                           this text
  --version                      the version

exit codes: 0 done, no leak · 1 a leak (compare, check, watch) · 2 an error (message on stderr)
the token: --token or the LEAKPROBE_TOKEN environment variable (safer: not in \`ps\`)
big snapshots: during the dominator pass names go to a nameless temp file in LEAKPROBE_SPILL
(default: the temp dir; off: keep all in memory), from LEAKPROBE_SPILL_MIN_MB MiB of them (32)
`

// One command's flags, by node:util's parseArgs. `spec`: each flag's kind, 'boolean', 'string',
// 'number' (a positive whole number) or 'seconds'; `_`: how many positionals the command takes;
// `'--': true`: what follows `--` is a command of its own (check's load), in `out['--']`.
function parseFlags(argv, spec) {
  const { _: maxPositionals = 0, '--': takesCommand = false, ...flags } = spec
  const options = {}
  for (const [name, kind] of Object.entries(flags)) options[name] = { type: kind === 'boolean' ? 'boolean' : 'string' }
  const args = joinDashValues(argv, options)
  let parsed
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true })
  } catch (e) {
    throw usageError(flagError(args, options) || e.message)
  }
  const out = { ...parsed.values, _: parsed.positionals, '--': null }
  const end = takesCommand && parsed.tokens.find((t) => t.kind === 'option-terminator')
  if (end) {
    out['--'] = args.slice(end.index + 1)
    out._ = parsed.tokens.filter((t) => t.kind === 'positional' && t.index < end.index).map((t) => t.value)
  }
  if (out._.length > maxPositionals) throw usageError(`unexpected argument ${out._[maxPositionals]}`)
  for (const [name, kind] of Object.entries(flags)) {
    if (out[name] === undefined || (kind !== 'number' && kind !== 'seconds')) continue
    const v = Number(out[name])
    if (kind === 'number' && !isWholeNumber(v, 1)) throw usageError(`--${name} takes a positive whole number`)
    // seconds: 0.5 is fine (> 0: the smallest number up); below setTimeout's range (~24.8 days)
    if (kind === 'seconds' && !isNumber(v, Number.MIN_VALUE, 2_000_000)) throw usageError(`--${name} takes a number of seconds > 0, such as 10 or 0.5`)
    out[name] = v
  }
  return out
}

// `--token -x…` → `--token=-x…`: a flag's value is the next word even when it starts with a dash
// (a random token may), where strict parseArgs would call it ambiguous
function joinDashValues(argv, options) {
  const out = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') return out.concat(argv.slice(i))
    const next = argv[i + 1]
    const name = a.startsWith('--') ? a.slice(2) : ''
    if (Object.hasOwn(options, name) && options[name].type === 'string' && next !== undefined && next !== '--' && next.startsWith('-')) {
      out.push(`${a}=${next}`)
      i++
    } else {
      out.push(a)
    }
  }
  return out
}

// What strict parseArgs refused, in our words (its own vary across Node versions): the first
// flag that is unknown, lacks its value or has one it should not.
function flagError(argv, options) {
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true })
  for (const t of tokens) {
    if (t.kind !== 'option') continue
    const type = Object.hasOwn(options, t.name) ? options[t.name].type : null
    if (!type) return `unknown option ${t.rawName}`
    if (type === 'boolean' && t.value !== undefined) return `${t.rawName} takes no value`
    // `--warmup -- load`: `--` ends the flags, it is no value
    if (type === 'string' && (t.value === undefined || (!t.inlineValue && t.value === '--'))) return `${t.rawName} needs a value`
  }
  return null
}

// the page, written whole or not at all
function writeHtml(out, what) {
  const file = path.resolve(out)
  require('../lib/cli/files').writeFileAtomic(file, require('../lib/html-report').renderHtml(what))
  process.stderr.write(`leakprobe: wrote ${file}\n`)
}

// ` (242 MB)`, or nothing when the file cannot be read (analyze says why)
function sizeOf(file) {
  try {
    return ` (${require('../lib/format').bytes(require('node:fs').statSync(file).size)})`
  } catch {
    return ''
  }
}

function usageError(msg) {
  const e = new Error(`${msg}\n\n${USAGE}`)
  e.code = 'ERR_LEAKPROBE_USAGE'
  return e
}

async function main(argv) {
  const [cmd, ...rest] = argv
  require('../lib/node-version').checkNodeVersion()
  switch (cmd) {
    case 'analyze': {
      const f = parseFlags(rest, { _: 1, json: 'boolean', html: 'string', top: 'number', paths: 'number', classes: 'number' })
      if (f._.length !== 1) throw usageError('analyze needs one snapshot file')
      const leakprobe = require('..')
      const { createProgress, nativeProgress } = require('../lib/cli/progress')
      const report = await createProgress().run(`analyze ${f._[0]}${sizeOf(f._[0])}`,
        (s) => leakprobe.analyze(f._[0], { top: f.top, paths: f.paths, classes: f.classes, onProgress: nativeProgress(s) }),
        (r) => `${r.snapshot.nodes.toLocaleString('en-US')} nodes`)
      if (f.html) writeHtml(f.html, { report })
      if (f.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n')
      else process.stdout.write(require('../lib/format').formatReport(report) + '\n')
      return 0
    }
    case 'compare': {
      const f = parseFlags(rest, { _: 3, json: 'boolean', html: 'string', threshold: 'string', suspects: 'number', classes: 'number' })
      if (f._.length < 2) throw usageError('compare needs a baseline and a target snapshot (and optionally a final one)')
      const leakprobe = require('..')
      const opts = { suspects: f.suspects, classes: f.classes }
      if (f.threshold !== undefined) opts.threshold = require('../lib/compare').thresholdFromText(f.threshold)
      const { createProgress, nativeProgress } = require('../lib/cli/progress')
      const roles = f._.length === 3 ? ['baseline', 'target', 'final'] : ['baseline', 'target']
      const c = await createProgress().run(`compare ${f._.length} snapshots`, (s) => {
        opts.onProgress = nativeProgress(s, roles)
        return leakprobe.compare(f._[0], f._[1], f._[2], opts)
      },
        (r) => (r.leak ? `LEAK: ${r.suspects[0].name}` : 'no leak'))
      if (f.html) writeHtml(f.html, { comparison: c })
      if (f.json) process.stdout.write(JSON.stringify(c, null, 2) + '\n')
      else process.stdout.write(require('../lib/format').formatComparison(c) + '\n')
      return c.leak ? 1 : 0
    }
    case 'capture': {
      const f = parseFlags(rest, { url: 'string', token: 'string', out: 'string', 'no-download': 'boolean', json: 'boolean', html: 'string', timeout: 'number' })
      if (!f.url) throw usageError('capture needs --url, the address of a running app\'s leakprobe route (e.g. http://127.0.0.1:3000/_leakprobe); to capture this process, use capture() from the API')
      const format = require('../lib/format')
      return require('../lib/cli/remote-commands').captureCommand(f, { writeHtml, formatReport: format.formatReport })
    }
    case 'check': {
      const f = parseFlags(rest, {
        '--': true, url: 'string', start: 'string', port: 'number', route: 'string', token: 'string', rounds: 'number', warmup: 'string',
        threshold: 'string', json: 'boolean', html: 'string', out: 'string', 'keep-snapshots': 'boolean', 'start-timeout': 'number', timeout: 'number',
      })
      if (f.threshold !== undefined) {
        // checked here, before anything starts: the app compares with it at the very end
        const { thresholdOf, thresholdFromText } = require('../lib/compare')
        try {
          thresholdOf(thresholdFromText(f.threshold), 'check')
        } catch {
          throw usageError(`--threshold takes BYTES[,COUNT] such as 64kb,100; got ${f.threshold}`)
        }
      }
      if (f.route !== undefined && !f.route.startsWith('/')) throw usageError('--route is the path the app mounts the route at, such as /_leakprobe')
      const format = require('../lib/format')
      try {
        return await require('../lib/cli/remote-commands').checkCommand(f, f['--'] || [], { writeHtml, formatComparison: format.formatComparison })
      } catch (e) {
        if (e.code === 'ERR_LEAKPROBE_USAGE') throw usageError(e.message)
        throw e
      }
    }
    case 'watch': {
      const f = parseFlags(rest, { url: 'string', token: 'string', interval: 'seconds', duration: 'seconds', json: 'boolean', metrics: 'boolean' })
      if (!f.url) throw usageError('watch needs --url, the address of a running app\'s leakprobe route (e.g. http://127.0.0.1:3000/_leakprobe) whose monitor samples')
      return require('../lib/cli/watch').watchCommand(f)
    }
    case 'open': {
      const f = parseFlags(rest, { _: 3, url: 'string', token: 'string', out: 'string', 'no-browser': 'boolean', timeout: 'number' })
      if (!f.url) throw usageError('open needs --url, the address of a running app\'s leakprobe route (e.g. http://127.0.0.1:3000/_leakprobe)')
      try {
        return await require('../lib/cli/open-report').openCommand(f)
      } catch (e) {
        if (e.code === 'ERR_LEAKPROBE_USAGE') throw usageError(e.message)
        throw e
      }
    }
    case 'demo': {
      const f = parseFlags(rest, { keep: 'boolean', requests: 'number' })
      await require('../lib/demo').demo({ keep: Boolean(f.keep), requests: f.requests })
      return 0
    }
    case '--version':
    case '-v':
      console.log(require(path.join(__dirname, '..', 'package.json')).version)
      return 0
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return 0
    default:
      throw usageError(`unknown command ${cmd}`)
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (e) => {
    process.stderr.write(`leakprobe: ${e.code && e.code !== 'ERR_LEAKPROBE_USAGE' ? `${e.code}: ` : ''}${e.message}\n`)
    process.exitCode = 2
  }
)
