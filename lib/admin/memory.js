'use strict'
// Can this machine (and this container) hold a snapshot of the current heap? V8's snapshot
// structures cost several times the live heap: on a 225 MB heap a capture added 2.15 GB of peak
// RSS (BENCHMARKS.md, Capture), about 9.6x; the default factor is 10.
const fs = require('node:fs')
const os = require('node:os')

const DEFAULT_FACTOR = 10

function readNumber(file) {
  try {
    const s = fs.readFileSync(file, 'utf8').trim()
    if (s === 'max') return Infinity
    const n = Number(s)
    return Number.isFinite(n) ? n : null
  } catch {
    return null
  }
}

// Room left under the cgroup's memory limit (v2, then v1), or Infinity when there is none.
function cgroupRoom(root = '/sys/fs/cgroup') {
  const v2max = readNumber(`${root}/memory.max`)
  if (v2max !== null) {
    const cur = readNumber(`${root}/memory.current`)
    return v2max === Infinity || cur === null ? Infinity : v2max - cur
  }
  const v1max = readNumber(`${root}/memory/memory.limit_in_bytes`)
  // v1 reports "no limit" as a huge number
  if (v1max !== null && v1max < 2 ** 60) {
    const cur = readNumber(`${root}/memory/memory.usage_in_bytes`)
    return cur === null ? Infinity : v1max - cur
  }
  return Infinity
}

// → { ok, need, available } for a snapshot of a heap of `heapUsed` bytes
function snapshotRoom({ heapUsed, factor = DEFAULT_FACTOR, cgroupRoot } = {}) {
  const need = Math.ceil(heapUsed * factor)
  const available = Math.min(os.freemem(), cgroupRoom(cgroupRoot))
  return { ok: need <= available, need, available }
}

module.exports = { snapshotRoom, cgroupRoom, DEFAULT_FACTOR }
