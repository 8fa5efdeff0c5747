'use strict'
// `leakprobe demo`: a small server with a planted leak, loopback traffic, a capture, the figures.
const http = require('node:http')
const os = require('node:os')
const fs = require('node:fs')
const path = require('node:path')
const { capture } = require('./capture')
const { check } = require('./check')
const { formatReport, formatComparison } = require('./format')

// The planted leak: every response is cached under a key that never repeats, and never evicted.
function leakyServer() {
  const responseCache = new Map()
  return http.createServer((req, res) => {
    const body = JSON.stringify({ url: req.url, at: Date.now(), pad: 'x'.repeat(512) })
    responseCache.set(req.url, { body, headers: { ...req.headers } })
    res.setHeader('content-type', 'application/json')
    res.end(body)
  })
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => { res.resume(); res.on('end', resolve) })
    req.on('error', reject)
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')))
  })
}

// `first`: the first item number, so that later batches ask for new URLs (new cache keys)
async function drive(port, total, concurrency, first = 0) {
  let next = first
  const end = first + total
  const worker = async () => { while (next < end) await get(port, `/item/${next++}`) }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

async function demo({ requests = 3000, keep = false, log = console.log } = {}) {
  const server = leakyServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-demo-'))
  try {
    log(`leakprobe demo: a server with a response cache that never evicts, on 127.0.0.1:${port}`)
    const t = Date.now()
    await drive(port, requests, 16)
    log(`sent ${requests} requests over loopback in ${Date.now() - t} ms; heap used ${mb(process.memoryUsage().heapUsed)}`)
    const r = await capture({ dir, analyze: true, top: 5, paths: 3, classes: 8 })
    log(`captured ${r.nodes} nodes: ${mb(r.bytes)} of snapshot → ${mb(r.compressedBytes)} gzip (${(r.bytes / r.compressedBytes).toFixed(1)}x)`)
    log(`main thread held ${r.blockedMs} ms (V8 writing the snapshot), done in ${r.durationMs} ms, via ${r.method}`)
    log(`analyzed in the same pass: read while V8 wrote it (${Math.round(r.report.timings.parseMs)} ms), analyzed in ${Math.round(r.report.timings.analyzeMs)} ms`)
    log('')
    log(formatReport(r.report, { classes: 8 }))
    log('')
    // What is big is not always what leaks (on a bigger heap the cache can sit below V8's own
    // classes): three snapshots around more traffic show what grows and who holds it.
    const batch = Math.max(50, Math.ceil(requests / 4))
    log(`Then what grows: baseline, ${batch * 2} more requests, target, ${batch * 2} more, final; compared`)
    let sent = requests
    const c = await check(() => drive(port, batch, 16, (sent += batch) - batch), { rounds: 2, warmup: 0, dir, classes: 5 })
    log(formatComparison(c, { classes: 5 }))
    log('')
    log(keep ? `snapshot kept: ${r.file}` : `snapshot: ${r.file} (removed; pass --keep to keep it)`)
    return { ...r, comparison: c }
  } finally {
    server.close()
    if (!keep) fs.rmSync(dir, { recursive: true, force: true })
  }
}

const mb = (n) => `${(n / 1048576).toFixed(1)} MB`

module.exports = { demo, leakyServer, drive }
