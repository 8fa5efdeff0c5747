'use strict'
// The processes `leakprobe check` runs: the app (`--start`), the warm-up and the load command.
// Their output goes to our stderr, so that stdout holds only the result (--json).
const net = require('node:net')
const { spawn } = require('node:child_process')
const { LeakprobeError } = require('../errors')

const runError = (message) => new LeakprobeError('ERR_LEAKPROBE_COMMAND', message)
const isWindows = process.platform === 'win32'

// a port nobody listens on right now (the app binds it right after)
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

// `argv`: [file, ...args] run as is, or a single string run by the shell (`"npm run load"`)
function start(argv, env, { shell = false } = {}) {
  const viaShell = shell || (argv.length === 1 && /\s/.test(argv[0]))
  const child = spawn(argv[0], viaShell ? [] : argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', process.stderr, process.stderr],
    shell: viaShell || isWindows,
    // its own process group, so that stopping it stops what it started (npm → node)
    detached: !isWindows,
  })
  const exited = new Promise((resolve) => {
    child.on('error', (e) => resolve({ error: e }))
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, exited, text: argv.join(' ') }
}

function describeExit({ error, code, signal }) {
  if (error) return error.code === 'ENOENT' ? 'could not be started (command not found)' : `could not be started (${error.message})`
  return signal ? `was killed by ${signal}` : `exited with code ${code}`
}

// run a command to its end; a failure is an error (exit 2 of the CLI)
async function runToEnd(argv, env, what) {
  const p = start(argv, env)
  const r = await p.exited
  if (r.error || r.code !== 0) throw runError(`the ${what} \`${p.text}\` ${describeExit(r)}`)
}

function kill(p, signal) {
  try {
    if (!isWindows && p.child.pid) process.kill(-p.child.pid, signal)
    else p.child.kill(signal)
  } catch {
    // already gone
  }
}

// SIGTERM, then SIGKILL when it does not go within `graceMs`
async function stop(p, graceMs = 5000) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return
  kill(p, 'SIGTERM')
  const t = setTimeout(() => kill(p, 'SIGKILL'), graceMs)
  await p.exited
  clearTimeout(t)
}

// `--start "node server.js"`: run the app and wait until its route answers (`ready()` resolves
// true), or fail when the app exits first or `timeoutMs` passes.
async function startApp(command, env, ready, timeoutMs) {
  const p = start([command], env, { shell: true })
  let gone = null
  p.exited.then((r) => { gone = r })
  const until = Date.now() + timeoutMs
  for (;;) {
    if (gone) throw runError(`the app \`${command}\` ${describeExit(gone)} before its leakprobe route answered`)
    let up
    try {
      up = await ready()
    } catch (e) {
      await stop(p) // the route answered with a refusal (wrong token, address not allowed)
      throw e
    }
    if (up) return p
    if (Date.now() > until) {
      await stop(p)
      throw runError(`the app \`${command}\` did not answer on its leakprobe route within ${Math.round(timeoutMs / 1000)} s (--start-timeout); does it listen on $PORT and mount leakprobe.express()?`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

module.exports = { freePort, runToEnd, startApp, stop }
