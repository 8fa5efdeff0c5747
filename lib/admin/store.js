'use strict'
// The route's snapshots: `<id>.heapsnapshot.gz` files (and `<id>.report.json`) in one directory.
// Request ids are checked against the capture id format and then looked up in the directory's
// own listing: no text from a request ever becomes part of a path.
const fs = require('node:fs')
const path = require('node:path')

// capture() ids: 2026-11-24T19-10-00-123Z-1a2b3c4d
const ID = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{8}$/
const SNAPSHOT = /^(.+)\.heapsnapshot(\.gz)?$/

class Store {
  constructor(dir, { keep = 10, maxBytes = Infinity } = {}) {
    this.dir = dir
    this.keep = keep
    this.maxBytes = maxBytes
  }

  // [{ id, file, bytes, createdAt, report }] newest first
  list() {
    let names
    try {
      names = fs.readdirSync(this.dir)
    } catch (e) {
      if (e.code === 'ENOENT') return []
      throw e
    }
    const out = []
    for (const name of names) {
      const m = SNAPSHOT.exec(name)
      if (!m || !ID.test(m[1])) continue
      const file = path.join(this.dir, name)
      let st
      try { st = fs.statSync(file) } catch { continue }
      out.push({ id: m[1], file, bytes: st.size, createdAt: st.mtime.toISOString(), report: names.includes(`${m[1]}.report.json`) })
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1))
  }

  // the entry for a request's id, or null (bad format or unknown)
  find(id) {
    if (typeof id !== 'string' || !ID.test(id)) return null
    return this.list().find((s) => s.id === id) || null
  }

  reportFile(entry) {
    return path.join(this.dir, `${entry.id}.report.json`)
  }

  saveReport(entry, report) {
    const file = this.reportFile(entry)
    const tmp = `${file}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(report), { mode: 0o600 })
    fs.renameSync(tmp, file)
  }

  readReport(entry) {
    try {
      return JSON.parse(fs.readFileSync(this.reportFile(entry), 'utf8'))
    } catch {
      return null
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

module.exports = { Store, ID }
