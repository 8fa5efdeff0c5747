'use strict'
// Loads the addon that `npm install` built into native/ (napi build --platform).
const fs = require('node:fs')
const path = require('node:path')

function platformTag() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const glibc = process.report && typeof process.report.getReport === 'function'
      ? Boolean(process.report.getReport().header.glibcVersionRuntime)
      : true
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function load() {
  const dir = path.join(__dirname, '..', 'native')
  const want = path.join(dir, `leakprobe.${platformTag()}.node`)
  if (fs.existsSync(want)) return require(want)
  const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')) : []
  const err = new Error(
    `leakprobe's native addon is missing (looked for ${want}${found.length ? `; found ${found.join(', ')}` : ''}). ` +
    'Run `npm install` in the leakprobe package to build it from source (needs Rust and cargo).'
  )
  err.code = 'ERR_LEAKPROBE_NATIVE'
  throw err
}

module.exports = load()
