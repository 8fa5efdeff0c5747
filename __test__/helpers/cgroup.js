'use strict'
// Tests that run a child under a real memory limit: this process's v1 memory cgroup.
const fs = require('node:fs')
const path = require('node:path')

// This process's v1 memory cgroup directory, or why there is none to use.
function ownMemoryCgroup() {
  if (process.platform !== 'linux') return { skip: 'cgroups are Linux only' }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { skip: 'needs root to create a cgroup' }
  const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l))
  if (!line) return { skip: 'no v1 memory controller on this machine' }
  const mount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => {
    const d = f.indexOf('-', 6)
    return d > 0 && f[d + 1] === 'cgroup' && f[d + 3].split(',').includes('memory') && f[3] === '/'
  })
  if (!mount) return { skip: 'the v1 memory hierarchy is not mounted at its root' }
  const dir = path.join(mount[4], line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1))
  return fs.existsSync(dir) ? { dir } : { skip: `${dir} is not visible here` }
}

// A new memory cgroup under this process's own, limited to `limit` bytes: { dir } or { skip }.
function limitedCgroup(name, limit) {
  const own = ownMemoryCgroup()
  if (own.skip) return own
  const dir = path.join(own.dir, name)
  try {
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limit))
  } catch (e) {
    try { fs.rmdirSync(dir) } catch { /* best effort: the skip says why */ }
    return { skip: `cannot create a memory cgroup under ${own.dir}: ${e.code || e.message}` }
  }
  return { dir }
}

// Removes it once the processes moved into it have left (the kernel takes a moment).
async function removeCgroup(dir) {
  for (let i = 0; i < 50; i++) {
    try {
      fs.rmdirSync(dir)
      return
    } catch (e) {
      if (e.code === 'ENOENT') return
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

module.exports = { ownMemoryCgroup, limitedCgroup, removeCgroup }
