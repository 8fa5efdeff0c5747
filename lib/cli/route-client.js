'use strict'
// A client for a running app's admin route (README: "The admin route"): capture, download, report, compare,
// delete. Every failure is a LeakprobeError whose message says what to do about it.
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const path = require('node:path')
const { LeakprobeError } = require('../errors')

const remoteError = (message, extra) => new LeakprobeError('ERR_LEAKPROBE_REMOTE', message, extra)

function routeUrl(raw) {
  let u
  try {
    u = new URL(raw)
  } catch {
    throw new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', `--url must be the route's address, such as http://127.0.0.1:3000/_leakprobe; got ${JSON.stringify(raw)}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', `--url must be http: or https:, got ${u.protocol}`)
  if (u.search || u.hash) throw new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', '--url is the route\'s base address, without ?query or #fragment')
  // the base without its trailing slash ('' at the root): paths are appended to it
  return { origin: u.origin, path: u.pathname.replace(/\/+$/, ''), protocol: u.protocol, hostname: u.hostname }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|\[::ffff:127(\.\d{1,3}){3}\])$/i

// a bearer token over plain http to another machine can be read on the way
function cleartextWarning(base) {
  if (base.protocol === 'http:' && !LOOPBACK.test(base.hostname)) {
    return `${base.origin} is plain http: the token and the report cross the network unencrypted; use https (or an SSH tunnel to 127.0.0.1)`
  }
  return null
}

class RouteClient {
  // `timeoutMs`: how long a response may stay silent (a capture of a big heap takes a while)
  constructor(url, token, { timeoutMs = 10 * 60_000 } = {}) {
    this.base = routeUrl(url)
    if (typeof token !== 'string' || token === '') {
      throw new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', 'the route needs its token: pass --token or set LEAKPROBE_TOKEN')
    }
    this.token = token
    this.timeoutMs = timeoutMs
    this.warning = cleartextWarning(this.base)
  }

  where(rel) {
    return `${this.base.origin}${this.base.path}${rel || '/'}`
  }

  // one request; resolves { status, headers, res } with the body unread
  open(method, rel, { accept = 'application/json' } = {}) {
    const url = new URL(this.where(rel))
    const lib = url.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers: { authorization: `Bearer ${this.token}`, accept } }, (res) => {
        resolve({ status: res.statusCode, headers: res.headers, res })
      })
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${Math.round(this.timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })))
      req.on('error', (e) => reject(this.connectError(e)))
      req.end()
    })
  }

  connectError(e) {
    const hint = e.code === 'ECONNREFUSED' ? ' — is the app running, and listening on that port?'
      : e.code === 'ENOTFOUND' ? ' — check the host name'
        : e.code === 'ETIMEDOUT' ? ' — the app did not answer (raise --timeout for a very large heap)' : ''
    return remoteError(`could not reach the leakprobe route at ${this.where('')}: ${e.code || e.message}${hint}`, { cause: e })
  }

  async json(method, rel, expect) {
    const { status, headers, res } = await this.open(method, rel)
    const text = await readAll(res)
    let body = null
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      // not ours: a 404 page of the app, a proxy's error page
    }
    if (status === expect) return { body, headers }
    throw this.statusError(method, rel, status, headers, body)
  }

  // a text answer (GET /metrics): the body as a string; errors as json()'s
  async text(method, rel, expect, accept = 'text/plain') {
    const { status, headers, res } = await this.open(method, rel, { accept })
    const text = await readAll(res)
    if (status === expect) return { text, headers }
    let body = null
    try { body = JSON.parse(text) } catch { /* not ours */ }
    throw this.statusError(method, rel, status, headers, body)
  }

  statusError(method, rel, status, headers, body) {
    const err = body && body.error ? body.error : null
    const said = err ? `HTTP ${status} ${err.code}: ${err.message}` : `HTTP ${status}`
    let hint = ''
    if (status === 401) hint = ' — the token is wrong: pass the one the route was set up with (--token or LEAKPROBE_TOKEN)'
    else if (status === 403 && err && err.code === 'ERR_LEAKPROBE_FORBIDDEN') hint = ' — this machine\'s address is not in the route\'s `allow` list'
    else if (status === 404 && !err) hint = ` — there is no leakprobe route at ${this.where('')}; mount it with app.use('/_leakprobe', leakprobe.express({ token }))`
    return remoteError(`${method} ${this.where(rel)} failed: ${said}${hint}`, {
      status,
      remoteCode: err ? err.code : undefined,
      retryAfter: headers['retry-after'] !== undefined ? Number(headers['retry-after']) : undefined,
    })
  }

  // POST snapshots: a capture in the app's process. While the route is busy (409) or its
  // minimum interval has not passed (429), wait as it says, up to `maxWaitMs` in all.
  // `series`: captures that belong together (one check's three) pass the interval between them.
  async capture({ analyze = false, series, maxWaitMs = 5 * 60_000, onWait = () => {} } = {}) {
    const until = Date.now() + maxWaitMs
    const query = new URLSearchParams()
    if (analyze) query.set('analyze', '1')
    if (series) query.set('series', series)
    const q = query.size ? `?${query}` : ''
    for (;;) {
      try {
        const { body } = await this.json('POST', `/snapshots${q}`, 201)
        return body
      } catch (e) {
        const waitable = (e.status === 409 || e.status === 429) && Number.isFinite(e.retryAfter)
        const waitMs = waitable ? Math.max(e.retryAfter, 1) * 1000 : 0
        if (!waitable || Date.now() + waitMs > until) {
          if (e.status === 429) e.message += ' — for load tests, set the route\'s minIntervalMs lower (e.g. 0)'
          throw e
        }
        onWait(e.status === 409 ? `the app is busy with another capture; retrying in ${e.retryAfter} s` : `the route allows one capture every so often; retrying in ${e.retryAfter} s`)
        await new Promise((r) => setTimeout(r, waitMs))
      }
    }
  }

  report(id) {
    return this.json('GET', `/snapshots/${encodeURIComponent(id)}/report`, 200).then((r) => r.body)
  }

  compare(ids, threshold) {
    const q = new URLSearchParams({ baseline: ids[0], target: ids[1] })
    if (ids[2]) q.set('final', ids[2])
    if (threshold) q.set('threshold', threshold)
    return this.json('GET', `/compare?${q}`, 200).then((r) => r.body)
  }

  async remove(id) {
    await this.json('DELETE', `/snapshots/${encodeURIComponent(id)}`, 204)
  }

  // GET snapshots/:id into `file`, whole or not at all. Resolves false when the route does not
  // allow downloads (its default).
  async download(id, file, { onProgress = () => {} } = {}) {
    const rel = `/snapshots/${encodeURIComponent(id)}`
    const { status, headers, res } = await this.open('GET', rel, { accept: 'application/gzip' })
    if (status !== 200) {
      const text = await readAll(res)
      let body = null
      try { body = JSON.parse(text) } catch { /* not ours */ }
      if (status === 403 && body && body.error && body.error.code === 'ERR_LEAKPROBE_DOWNLOAD_OFF') return false
      throw this.statusError('GET', rel, status, headers, body)
    }
    const total = Number(headers['content-length']) || 0
    const tmp = `${file}.${process.pid}.part`
    let done = 0
    try {
      await new Promise((resolve, reject) => {
        const out = fs.createWriteStream(tmp, { mode: 0o600 })
        res.on('data', (chunk) => {
          done += chunk.length
          onProgress({ done, total })
        })
        res.on('aborted', () => reject(remoteError(`the download of ${id} was cut off after ${done} of ${total} bytes`)))
        res.on('error', reject)
        out.on('error', reject)
        out.on('finish', resolve)
        res.pipe(out)
      })
      if (total && done !== total) throw remoteError(`the download of ${id} was cut off after ${done} of ${total} bytes`)
      fs.renameSync(tmp, file)
    } catch (e) {
      fs.rmSync(tmp, { force: true })
      throw e
    }
    return true
  }
}

function readAll(res) {
  return new Promise((resolve, reject) => {
    const parts = []
    res.on('data', (c) => parts.push(c))
    res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')))
    res.on('error', reject)
    res.on('aborted', () => reject(remoteError('the connection closed before the answer was complete')))
  })
}

// where downloaded files go: DIR/<id>.heapsnapshot.gz, DIR/<id>.report.json
function artifactPath(dir, id, suffix) {
  return path.join(dir, `${id}${suffix}`)
}

module.exports = { RouteClient, routeUrl, artifactPath, cleartextWarning }
