'use strict'
// End to end: the CLI (`capture --url`, `check --url`, `check --start`) against real servers on
// loopback — the express example of examples/ and a node:http app with the route — and the
// example's own npm scripts. Traffic is bounded (a few thousand requests per run).
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const leakprobe = require('..')

const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'leakprobe.js')
const EXAMPLE = path.join(ROOT, 'examples', 'express-leak')
const TOKEN = 'test-token-0123456789abcdef'

// The examples require('leakprobe') and call `leakprobe` as an installed package would have them:
// a node_modules with a link to this checkout, and a bin dir with the CLI.
let work
let exampleEnv
before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-cli-remote-'))
  fs.mkdirSync(path.join(work, 'node_modules'))
  fs.symlinkSync(ROOT, path.join(work, 'node_modules', 'leakprobe'), 'dir')
  fs.mkdirSync(path.join(work, 'bin'))
  fs.symlinkSync(BIN, path.join(work, 'bin', 'leakprobe'))
  exampleEnv = {
    ...process.env,
    NODE_PATH: path.join(work, 'node_modules'),
    PATH: [path.join(work, 'bin'), path.join(ROOT, 'node_modules', '.bin'), process.env.PATH].join(path.delimiter),
    REQUESTS: '1000',
    LEAKPROBE_TOKEN: '',
    // the apps' default snapshot stores go under this test's own temp dir, never the machine's
    TMPDIR: work,
  }
  delete exampleEnv.LEAKPROBE_TOKEN
})
after(() => fs.rmSync(work, { recursive: true, force: true }))

function run(cmd, args, { env = exampleEnv, cwd = ROOT, timeoutMs = 90_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(t)
      resolve({ code, stdout, stderr })
    })
  })
}

const cli = (args, opts) => run(process.execPath, [BIN, ...args], opts)

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.on('connect', () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
}

// the express example, started by the test (the --url form)
async function startExample(args = []) {
  const port = await freePort()
  const child = spawn(process.execPath, [path.join(EXAMPLE, 'server.js'), ...args], {
    env: { ...exampleEnv, PORT: String(port), LEAKPROBE_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => { if (/example app/.test(String(d))) resolve() })
    child.on('exit', (code) => reject(new Error(`example exited with ${code}`)))
  })
  return {
    port,
    url: `http://127.0.0.1:${port}/_leakprobe`,
    stop: () => new Promise((r) => { child.on('exit', r); child.kill('SIGTERM') }),
  }
}

// a node:http app in this process with the route (downloads allowed or not)
async function startRouteApp(options = {}) {
  const dir = fs.mkdtempSync(path.join(work, 'route-'))
  const handle = leakprobe.handler({ token: TOKEN, dir, minIntervalMs: 0, ...options })
  const server = http.createServer((req, res) => handle(req, res))
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    dir,
    url: `http://127.0.0.1:${server.address().port}/`,
    stop: () => new Promise((r) => server.close(r)),
  }
}

const storedSnapshots = (dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot.gz'))

test('the example\'s `npm run leakcheck` exits 1 on the leaky app, naming the leak and its holder', async () => {
  const r = await run('npm', ['run', '--silent', 'leakcheck'], { cwd: EXAMPLE })
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stdout, /LEAK: [\d,]+ RequestContext objects .* held by .*inflight/)
  // progress lines on stderr (not a TTY: a line per step), and the load ran twice
  for (const step of ['starting the app', 'baseline snapshot', 'target snapshot', 'final snapshot', 'comparing the snapshots']) {
    assert.match(r.stderr, new RegExp(`leakprobe: ${step}`), step)
  }
  assert.equal((r.stderr.match(/load test: \d+ requests/g) || []).length, 2, r.stderr)
})

test('the example\'s `npm run leakcheck:fixed` exits 0 and stops the app it started', async () => {
  const r = await run('npm', ['run', '--silent', 'leakcheck:fixed'], { cwd: EXAMPLE })
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /no leak/)
  const port = Number(/route answers at http:\/\/127\.0\.0\.1:(\d+)\/_leakprobe/.exec(r.stderr)[1])
  assert.equal(await portOpen(port), false, 'the app is stopped')
})

test('check --url against a running app: --json, --html, --out, snapshots removed from the app', async (t) => {
  const app = await startExample()
  t.after(app.stop)
  const out = path.join(work, 'check-out')
  const html = path.join(work, 'check.html')
  const r = await cli(['check', '--url', app.url, '--json', '--html', html, '--out', out, '--threshold', '8kb,20', '--', process.execPath, path.join(EXAMPLE, 'loadtest.js')],
    { env: { ...exampleEnv, LEAKPROBE_TOKEN: TOKEN } })
  assert.equal(r.code, 1, r.stderr)
  const c = JSON.parse(r.stdout)
  assert.equal(c.format, 'leakprobe-compare/1')
  assert.equal(c.leak, true)
  assert.deepEqual(c.threshold, { bytes: 8192, count: 20 })
  assert.equal(c.suspects[0].name, 'RequestContext')
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'comparison.json'), 'utf8')).suspects[0].name, 'RequestContext')
  assert.match(fs.readFileSync(html, 'utf8'), /RequestContext/)
  assert.match(r.stderr, /set allowDownload: true on the route/)
  const list = await fetch(`${app.url}/snapshots`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((x) => x.json())
  assert.deepEqual(list.snapshots, [], 'the three snapshots were deleted')
})

test('capture --url downloads the report and, when allowed, the snapshot', async (t) => {
  const app = await startRouteApp({ allowDownload: true })
  t.after(app.stop)
  const out = path.join(work, 'capture-out')
  const r = await cli(['capture', '--url', app.url, '--token', TOKEN, '--out', out])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Biggest retainers/)
  // made in the capture's pass: its read time is V8 writing the snapshot, not a parse
  assert.match(r.stdout, /\(read while V8 wrote it: [\d,]+ ms, analyzed in/)
  const files = fs.readdirSync(out).sort()
  assert.equal(files.length, 2, files.join())
  const [snap, report] = files
  assert.match(snap, /\.heapsnapshot\.gz$/)
  assert.match(report, /\.report\.json$/)
  const local = await leakprobe.analyze(path.join(out, snap), { top: 5 })
  const remote = JSON.parse(fs.readFileSync(path.join(out, report), 'utf8'))
  assert.equal(local.snapshot.nodes, remote.snapshot.nodes, 'the downloaded snapshot is the one the report was made from')
  assert.equal(fs.readFileSync(path.join(out, snap)).length, fs.statSync(path.join(app.dir, storedSnapshots(app.dir)[0])).size)

  // download off (the route's default): the report only, and a note saying why
  const off = await startRouteApp()
  t.after(off.stop)
  const out2 = path.join(work, 'capture-out-2')
  const r2 = await cli(['capture', '--url', off.url, '--json', '--out', out2], { env: { ...exampleEnv, LEAKPROBE_TOKEN: TOKEN } })
  assert.equal(r2.code, 0, r2.stderr)
  assert.equal(JSON.parse(r2.stdout).format, 'leakprobe-report/1')
  assert.deepEqual(fs.readdirSync(out2).map((f) => path.extname(f)), ['.json'])
  assert.match(r2.stderr, /allowDownload: true/)
})

test('check: its three captures are one series, never waiting on each other (the route\'s default interval)', async (t) => {
  const app = await startRouteApp({ minIntervalMs: undefined }) // the route's default: a capture a minute
  t.after(app.stop)
  // a quoted $PORT in a load command of several words (no shell) means what the shell would make of it
  const log = path.join(work, 'series-load.log')
  const record = `require('fs').appendFileSync(${JSON.stringify(log)}, process.argv[1] + '\\n')`
  const r = await cli(['check', '--url', app.url, '--token', TOKEN, '--', process.execPath, '-e', record, 'http://127.0.0.1:$PORT/x?u=${LEAKPROBE_URL}'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /compared 3 snapshots/)
  assert.doesNotMatch(r.stderr, /retrying in/)
  const port = new URL(app.url).port
  assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), Array(2).fill(`http://127.0.0.1:${port}/x?u=${app.url}`))
})

test('check waits out the route\'s minimum interval after another capture (429 + Retry-After)', async (t) => {
  const app = await startRouteApp({ minIntervalMs: 1200 })
  t.after(app.stop)
  // a capture outside the check: the check's baseline waits for the interval, the rest do not
  const first = await fetch(`${app.url}snapshots`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(first.status, 201)
  // the warm-up runs once before the baseline, the load --rounds times before each later snapshot;
  // both get PORT and LEAKPROBE_URL
  const log = path.join(work, 'runs.log')
  const append = (what) => `require('fs').appendFileSync(${JSON.stringify(log)}, '${what} ' + process.env.PORT + ' ' + process.env.LEAKPROBE_URL + '\\n')`
  const warmup = `${JSON.stringify(process.execPath)} -e ${JSON.stringify(append('warmup'))}`
  const r = await cli(['check', '--url', app.url, '--token', TOKEN, '--warmup', warmup, '--rounds', '2', '--', process.execPath, '-e', append('load')])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /compared 3 snapshots/)
  assert.equal((r.stderr.match(/retrying in \d+ s/g) || []).length, 1, r.stderr)
  const port = new URL(app.url).port
  const runs = fs.readFileSync(log, 'utf8').trim().split('\n')
  assert.deepEqual(runs.map((l) => l.split(' ')[0]), ['warmup', 'load', 'load', 'load', 'load'])
  for (const l of runs) assert.equal(l.split(' ').slice(1).join(' '), `${port} ${app.url}`)
  assert.match(r.stderr, /load before the target snapshot \(round 2 of 2\)/)
  assert.deepEqual(storedSnapshots(app.dir).length, 1, 'the check\'s snapshots were deleted after the comparison')
})

test('open: the latest report or a comparison, fetched with the token into a private page, opened in the browser', async (t) => {
  const app = await startRouteApp()
  t.after(app.stop)
  const env = { ...exampleEnv, LEAKPROBE_TOKEN: TOKEN }
  const none = await cli(['open', '--url', app.url, '--no-browser'], { env })
  assert.equal(none.code, 2)
  assert.match(none.stderr, /holds no snapshot yet/)
  const ids = []
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${app.url}snapshots`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(r.status, 201)
    ids.push((await r.json()).id)
  }
  // a stand-in for the desktop's opener, first on PATH: it records what it was asked to open
  const bin = fs.mkdtempSync(path.join(work, 'opener-'))
  const opened = path.join(bin, 'opened.log')
  fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" >> ${JSON.stringify(opened)}\n`, { mode: 0o755 })
  const latest = await cli(['open', '--url', app.url], { env: { ...env, PATH: `${bin}${path.delimiter}${process.env.PATH}` } })
  assert.equal(latest.code, 0, latest.stderr)
  const file = latest.stdout.trim()
  assert.ok(file.endsWith(`leakprobe-${ids[2]}.html`), file)
  assert.equal(fs.statSync(file).mode & 0o777, 0o600)
  assert.match(fs.readFileSync(file, 'utf8'), new RegExp(`<title>leakprobe: snapshot ${ids[2]}</title>`))
  if (process.platform === 'linux') {
    for (let i = 0; i < 100 && !fs.existsSync(opened); i++) await new Promise((r) => setTimeout(r, 50))
    assert.equal(fs.readFileSync(opened, 'utf8').trim(), file)
  }
  const out = path.join(work, 'open-compare.html')
  const cmp = await cli(['open', '--url', app.url, '--no-browser', '--out', out, ...ids], { env })
  assert.equal(cmp.code, 0, cmp.stderr)
  assert.equal(cmp.stdout.trim(), out)
  assert.match(fs.readFileSync(out, 'utf8'), /What grew, and who holds it/)
  const two = await cli(['open', '--url', app.url, '--no-browser', ids[0], ids[1]], { env })
  assert.equal(two.code, 2)
  assert.match(two.stderr, /one snapshot id .* or three/)
})

test('errors exit 2 with a message that says what to do, and leave nothing behind', async (t) => {
  const app = await startRouteApp()
  t.after(app.stop)
  const load = ['--', process.execPath, '-e', '0']
  const cases = [
    [['capture', '--url', app.url, '--token', 'wrong-token-wrong-token'], /401.*the token is wrong/],
    [['capture', '--url', app.url], /pass --token or set LEAKPROBE_TOKEN/],
    [['capture', '--url', `http://127.0.0.1:${await freePort()}/_leakprobe`, '--token', TOKEN], /could not reach .*ECONNREFUSED/],
    [['capture', '--url', 'not a url', '--token', TOKEN], /--url must be the route's address/],
    [['capture', '--token', TOKEN], /capture needs --url/],
    [['check', '--url', app.url, '--token', TOKEN], /needs the load command after --/],
    [['check', '--url', app.url, '--start', 'node x.js', ...load], /either --url .* or --start/],
    [['check', '--url', app.url, '--token', TOKEN, '--threshold', 'lots', ...load], /--threshold takes BYTES\[,COUNT\]/],
    [['check', '--url', app.url, '--token', TOKEN, '--', process.execPath, '-e', 'process.exit(3)'], /the load command .* exited with code 3/],
    [['check', '--url', app.url, '--token', TOKEN, '--', 'no-such-command-leakprobe'], /the load command .* could not be started \(command not found\)/],
    [['check', '--url', app.url, '--token', TOKEN, '--', 'npx', 'autocannon', 'http://127.0.0.1:/'], /URL http:\/\/127\.0\.0\.1:\/ has no port: your shell expanded \$PORT .* 'http:\/\/127\.0\.0\.1:\$PORT\/'/],
    [['check', '--start', `${JSON.stringify(process.execPath)} -e "process.exit(4)"`, ...load], /the app .* exited with code 4 before its leakprobe route answered/],
  ]
  for (const [args, message] of cases) {
    const r = await cli(args, { env: { ...exampleEnv, LEAKPROBE_TOKEN: '' } })
    assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`)
    assert.match(r.stderr, message, args.join(' '))
    assert.equal(r.stdout, '', args.join(' '))
  }
  assert.deepEqual(storedSnapshots(app.dir), [], 'a failed check deletes the snapshots it took')
})

test('check --start gives up on an app whose route never answers, and stops it', async () => {
  const port = await freePort()
  // listens on $PORT but has no leakprobe route: every request is a 404 page
  const app = `${JSON.stringify(process.execPath)} -e "require('http').createServer((q,s)=>{s.statusCode=404;s.end('nope')}).listen(process.env.PORT,'127.0.0.1')"`
  const r = await cli(['check', '--start', app, '--port', String(port), '--start-timeout', '2', '--', process.execPath, '-e', '0'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /did not answer on its leakprobe route within 2 s/)
  assert.equal(await portOpen(port), false, 'the app is stopped')
})

test('check --start stops the app when its route refuses the token', async () => {
  const port = await freePort()
  // an app whose route has its own token: leakprobe's --token is not it
  const app = `${JSON.stringify(process.execPath)} -e "const l=require('leakprobe');require('http').createServer(l.handler({token:'the-apps-own-token-123'})).listen(process.env.PORT,'127.0.0.1')"`
  const r = await cli(['check', '--start', app, '--port', String(port), '--token', TOKEN, '--', process.execPath, '-e', '0'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /401 .*the token is wrong/)
  assert.equal(await portOpen(port), false, 'the app is stopped')
})

