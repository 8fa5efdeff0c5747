'use strict'
// The route's snapshots: `<id>.heapsnapshot.gz` files (and `<id>.report.json`) in one directory.
// Request ids are checked against the capture id format and then looked up in the directory's
// own listing: no text from a request ever becomes part of a path.
//
// The directory is this user's alone (lib/private-dir.js: owned by this uid, not writable by
// group or others, not a symlink), checked at setup and again before each use. Only regular
// files are listed and opened, never through a symlink (lstat, O_NOFOLLOW); report caches are
// written to a fresh O_EXCL temp file. At setup, what captures killed part-way left behind (temp
// files nobody holds, FIFOs nobody reads) is removed.
const fs = require('node:fs')
const path = require('node:path')
const native = require('../native')
const { ensurePrivateDir, userDir, appKey } = require('../private-dir')

// capture() ids: 2026-11-24T19-10-00-123Z-1a2b3c4d
const ID = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{8}$/
const SNAPSHOT = /^(.+)\.heapsnapshot(\.gz)?$/
const NOFOLLOW = fs.constants.O_NOFOLLOW || 0

// The default store: `<os.tmpdir()>/leakprobe-<uid>/route-<app>`, <app> a hash of the main
// module's path and the working directory: private to this user, one per app.
function defaultStoreDir() {
  const base = userDir()
  ensurePrivateDir(base, { what: "leakprobe's directory for this user" })
  return path.join(base, `route-${appKey()}`)
}

class Store {
  constructor(dir, { keep = 10, maxBytes = Infinity } = {}) {
    this.dir = dir
    this.keep = keep
    this.maxBytes = maxBytes
    this.check()
    this.cleaned = native.cleanStale(dir)
  }

  // the directory's rules, before each use (made again if something removed it)
  check() {
    ensurePrivateDir(this.dir, { what: "the route's snapshot directory" })
  }

  // [{ id, file, bytes, createdAt, report }] newest first
  list() {
    this.check()
    const names = fs.readdirSync(this.dir)
    const uid = typeof process.getuid === 'function' ? process.getuid() : null
    const out = []
    for (const name of names) {
      const m = SNAPSHOT.exec(name)
      if (!m || !ID.test(m[1])) continue
      const file = path.join(this.dir, name)
      let st
      try { st = fs.lstatSync(file) } catch { continue }
      if (!st.isFile() || (uid !== null && st.uid !== uid)) continue
      out.push({ id: m[1], file, bytes: st.size, createdAt: st.mtime.toISOString(), report: names.includes(`${m[1]}.report.json`) })
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1))
  }

  // the entry for a request's id, or null (bad format or unknown)
  find(id) {
    if (typeof id !== 'string' || !ID.test(id)) return null
    return this.list().find((s) => s.id === id) || null
  }

  // → { fd, size } of a regular file, never through a symlink; null if it is gone
  open(file) {
    let fd
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | NOFOLLOW)
    } catch (e) {
      if (e.code === 'ENOENT' || e.code === 'ELOOP') return null
      throw e
    }
    const st = fs.fstatSync(fd)
    if (!st.isFile()) {
      fs.closeSync(fd)
      return null
    }
    return { fd, size: st.size }
  }

  reportFile(entry) {
    return path.join(this.dir, `${entry.id}.report.json`)
  }

  // a cache: a failure to write it costs a second analysis later, nothing more
  saveReport(entry, report) {
    const file = this.reportFile(entry)
    const tmp = path.join(this.dir, `.${entry.id}.report.json.tmp`)
    try {
      fs.rmSync(tmp, { force: true })
      const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, 0o600)
      try {
        fs.writeFileSync(fd, JSON.stringify(report))
      } finally {
        fs.closeSync(fd)
      }
      fs.renameSync(tmp, file)
      return true
    } catch {
      fs.rmSync(tmp, { force: true })
      return false
    }
  }

  readReport(entry) {
    const f = this.open(this.reportFile(entry))
    if (!f) return null
    try {
      return JSON.parse(fs.readFileSync(f.fd, 'utf8'))
    } catch {
      return null
    } finally {
      fs.closeSync(f.fd)
    }
  }

  remove(entry) {
    fs.rmSync(entry.file, { force: true })
    fs.rmSync(this.reportFile(entry), { force: true })
  }

  // oldest first out, until at most `keep` snapshots and `maxBytes` remain
  prune() {
    const all = this.list()
    let bytes = all.reduce((a, s) => a + s.bytes, 0)
    const removed = []
    for (let i = all.length - 1; i >= 0; i--) {
      if (i < this.keep && bytes <= this.maxBytes) break
      if (i === 0) break // never the capture just taken
      this.remove(all[i])
      bytes -= all[i].bytes
      removed.push(all[i].id)
    }
    return removed
  }
}

module.exports = { Store, ID, defaultStoreDir }
