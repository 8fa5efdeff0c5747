'use strict'
// Starts helpers/route-child.js (or another script printing `{ port, pid }`) and talks to it.
const { spawn } = require('node:child_process')
const http = require('node:http')
const path = require('node:path')

const CHILD = path.join(__dirname, 'route-child.js')
const TOKEN = 'tok-0123456789abcdef-secret'
const auth = { authorization: `Bearer ${TOKEN}` }

function startRoute(args = {}, { script = CHILD, env = process.env, cwd } = {}) {
  const child = spawn(process.execPath, [script, JSON.stringify(args)], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const ready = new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)))
    })
    exited.then(({ code, signal }) => reject(new Error(`route child exited (${code ?? signal}) before listening: ${stderr}`)))
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  exited.then(() => clearTimeout(timer))
  return ready.then(({ port, pid }) => ({
    child,
    pid,
    port,
    base: `http://127.0.0.1:${port}`,
    exited,
    stderr: () => stderr,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      return exited
    },
  }))
}

// raw requests (no normalization of paths or headers); never rejects on a reset: { error }
function request(base, method, p, headers = {}, { maxBytes = Infinity } = {}) {
  const u = new URL(base)
  return new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, headers, agent: false }, (res) => {
      const chunks = []
      let got = 0
      res.on('data', (c) => {
        got += c.length
        if (got <= maxBytes) chunks.push(c)
      })
      res.on('error', (error) => resolve({ status: res.statusCode, headers: res.headers, error, bytes: got }))
      res.on('end', () => {
        const buf = Buffer.concat(chunks)
        const body = buf.toString('utf8')
        let json = null
        try { json = JSON.parse(body) } catch { /* not JSON: json stays null */ }
        resolve({ status: res.statusCode, headers: res.headers, body, buf, json, bytes: got, complete: res.complete })
      })
    })
    req.on('error', (error) => resolve({ status: 0, error }))
    req.end()
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// waits until `probe()` returns something truthy (polled every `everyMs`), or throws after `ms`
async function waitFor(probe, { ms = 60_000, everyMs = 5, what = 'condition' } = {}) {
  const end = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}

module.exports = { startRoute, request, waitFor, sleep, TOKEN, auth, CHILD }
