'use strict'
// `leakprobe capture --url …` and `leakprobe check … -- <load command>`: the CLI side of a
// running app's admin route. The app captures and analyzes (its route does the work on leakprobe's
// threads); this side orders the steps, runs the load, shows progress and keeps the artifacts.
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { RouteClient, artifactPath } = require('./route-client')
const { freePort, runToEnd, startApp, stop } = require('./processes')
const { createProgress } = require('./progress')
const { bytes, int } = require('../format')
const { LeakprobeError } = require('../errors')
const { writeFileAtomic } = require('./files')

const ROUTE_PATH = '/_leakprobe'

function describeCapture(c) {
  return `${c.id}: ${int(c.nodes)} nodes, ${bytes(c.bytes)} of snapshot → ${bytes(c.compressedBytes)} gzip`
}

function ensureDir(dir) {
  const d = path.resolve(dir)
  fs.mkdirSync(d, { recursive: true })
  return d
}

async function downloadTo(client, progress, id, dir) {
  const file = artifactPath(dir, id, '.heapsnapshot.gz')
  const ok = await progress.run(`downloading snapshot ${id}`, (s) => client.download(id, file, { onProgress: (p) => s.update(p) }),
    (got) => (got ? `saved ${file}` : 'not allowed by the route'))
  if (!ok) progress.log('the route keeps raw snapshots on the server (set allowDownload: true on the route to fetch them); the report is enough for most leaks')
  return ok ? file : null
}

// leakprobe capture --url URL [--token T] [--out DIR] [--no-download] [--json | --html OUT]
async function captureCommand(f, { writeHtml, formatReport }) {
  const progress = createProgress()
  const client = new RouteClient(f.url, f.token || process.env.LEAKPROBE_TOKEN, { timeoutMs: (f.timeout || 600) * 1000 })
  if (client.warning) progress.log(`warning: ${client.warning}`)
  const snap = await progress.run('capturing and analyzing in the app', (s) => client.capture({ analyze: true, onWait: (m) => s.update(m) }), describeCapture)
  const report = snap.report || (await progress.run(`analyzing ${snap.id} in the app`, () => client.report(snap.id)))
  const dir = ensureDir(f.out || '.')
  const reportFile = artifactPath(dir, snap.id, '.report.json')
  writeFileAtomic(reportFile, JSON.stringify(report, null, 2) + '\n')
  progress.log(`wrote ${reportFile}`)
  if (!f['no-download']) await downloadTo(client, progress, snap.id, dir)
  if (f.html) writeHtml(f.html, { report, title: `leakprobe: snapshot ${snap.id}` })
  process.stdout.write(f.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n')
  return 0
}

function randomToken() {
  return crypto.randomBytes(24).toString('base64url')
}

// the route answers (any JSON status from it means the app is up and the route mounted)
async function routeAnswers(client) {
  try {
    await client.json('GET', '/stats', 200)
    return true
  } catch (e) {
    if (e.status === 401 || e.status === 403) throw e
    return false
  }
}

// `http://127.0.0.1:/`: the user's shell expanded an unquoted $PORT to nothing before we ran
function emptyPortUrl(load) {
  return load.find((a) => /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:(\/|$)/i.test(a))
}

// A load command of several words runs without a shell: a quoted `$PORT` or `${LEAKPROBE_URL}`
// reaches us as written, and means what it would have meant to the shell.
function expandEnv(load, env) {
  if (load.length === 1) return load // one string: the shell expands it
  return load.map((a) => a.replace(/\$(?:\{(PORT|LEAKPROBE_URL)\}|(PORT|LEAKPROBE_URL)\b)/g, (m, braced, bare) => env[braced || bare] ?? m))
}

// leakprobe check (--url URL | --start CMD [--port P]) [options] -- LOAD COMMAND
async function checkCommand(f, load, { writeHtml, formatComparison }) {
  if (!load.length) throw new LeakprobeError('ERR_LEAKPROBE_USAGE', 'check needs the load command after --, e.g. leakprobe check --url … -- npx autocannon -d 10 http://127.0.0.1:3000/')
  if (!f.url === !f.start) throw new LeakprobeError('ERR_LEAKPROBE_USAGE', 'check needs either --url (a running app) or --start "<command>" (leakprobe starts the app)')
  if (f.port && !f.start) throw new LeakprobeError('ERR_LEAKPROBE_USAGE', '--port goes with --start (with --url, the port is in the URL)')
  const noPort = emptyPortUrl(load)
  if (noPort) {
    throw new LeakprobeError('ERR_LEAKPROBE_USAGE', `the load command's URL ${noPort} has no port: your shell expanded $PORT to nothing before leakprobe ran. ` +
      "Quote it so that leakprobe sets it (it gives the load command PORT and LEAKPROBE_URL): -- npx autocannon -d 5 'http://127.0.0.1:$PORT/'")
  }
  const progress = createProgress()
  const rounds = f.rounds || 1
  let token = f.token || process.env.LEAKPROBE_TOKEN
  let app = null
  let url = f.url
  const env = {}
  if (f.start) {
    // the app reads its port from $PORT and its token from $LEAKPROBE_TOKEN
    if (!token) token = randomToken()
    const port = f.port || (await freePort())
    url = `http://127.0.0.1:${port}${f.route || ROUTE_PATH}`
    env.PORT = String(port)
    env.LEAKPROBE_TOKEN = token
  } else {
    const port = new URL(url).port
    if (port) env.PORT = port
  }
  const client = new RouteClient(url, token, { timeoutMs: (f.timeout || 600) * 1000 })
  if (client.warning) progress.log(`warning: ${client.warning}`)
  env.LEAKPROBE_URL = client.where('')
  const ids = []
  const stopAll = async () => {
    if (app) await stop(app)
    app = null
  }
  const onSignal = (sig) => {
    progress.log(`${sig}: stopping`)
    stopAll().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    if (f.start) {
      app = await progress.run(`starting the app: ${f.start}`, () => startApp(f.start, env, () => routeAnswers(client), (f['start-timeout'] || 30) * 1000),
        () => `its route answers at ${client.where('')}`)
    } else if (!(await routeAnswers(client))) {
      throw new LeakprobeError('ERR_LEAKPROBE_REMOTE', `no leakprobe route answers at ${client.where('')}: is the app running, with leakprobe.express() mounted there?`)
    }
    if (f.warmup) await progress.run(`warm-up: ${f.warmup}`, () => runToEnd([f.warmup], env, 'warm-up command'))
    // one series: the route lets its three captures through without its minimum interval
    const series = crypto.randomBytes(12).toString('hex')
    const shot = async (role) => {
      const c = await progress.run(`${role} snapshot`, (s) => client.capture({ series, onWait: (m) => s.update(m) }), describeCapture)
      ids.push(c.id)
    }
    const runLoad = async (before) => {
      for (let i = 1; i <= rounds; i++) {
        await progress.run(`load before the ${before} snapshot${rounds > 1 ? ` (round ${i} of ${rounds})` : ''}: ${load.join(' ')}`, () => runToEnd(expandEnv(load, env), env, 'load command'))
      }
    }
    await shot('baseline')
    await runLoad('target')
    await shot('target')
    await runLoad('final')
    await shot('final')
    const comparison = await progress.run('comparing the snapshots in the app', () => client.compare(ids, f.threshold),
      (c) => (c.leak ? `LEAK: ${c.suspects[0].name}` : 'no leak'))
    if (f.out) {
      const dir = ensureDir(f.out)
      writeFileAtomic(path.join(dir, 'comparison.json'), JSON.stringify(comparison, null, 2) + '\n')
      progress.log(`wrote ${path.join(dir, 'comparison.json')}`)
      for (const id of ids) if (!(await downloadTo(client, progress, id, dir))) break
    }
    if (f.html) writeHtml(f.html, { comparison })
    process.stdout.write(f.json ? JSON.stringify(comparison, null, 2) + '\n' : formatComparison(comparison) + '\n')
    return comparison.leak ? 1 : 0
  } finally {
    if (!f['keep-snapshots']) {
      for (const id of ids) await client.remove(id).catch(() => {})
    }
    await stopAll()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

module.exports = { captureCommand, checkCommand }
