'use strict'
// Loads the native addon. In order:
//   1. native/leakprobe.<platform>.node: a build from source (`npm run build`; what a clone's
//      `npm install` makes). First, so a developer's tests always run the code they just built,
//      even when the published platform package is also installed.
//   2. the prebuilt package for this platform, leakprobe-<platform>, which npm installs from the
//      main package's optionalDependencies (only the one matching os/cpu/libc).
//   3. otherwise ERR_LEAKPROBE_NATIVE, naming the platform and what to do.
const fs = require('node:fs')
const path = require('node:path')
const { LeakprobeError } = require('./errors')

const ROOT = path.join(__dirname, '..')

// Prebuilt packages that the release workflow publishes (package.json `napi.targets`).
const PREBUILT = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']

// musl or glibc: the dynamic loader's script says so without starting anything; the process
// report (which lists the loaded C library) is the fallback where /usr/bin/ldd is absent.
function isMusl() {
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    // no ldd: ask the process report
  }
  if (!process.report || typeof process.report.getReport !== 'function') return false
  // no network lookups for the report, and the host's own setting back as it was
  const excludeNetwork = process.report.excludeNetwork
  process.report.excludeNetwork = true
  let report
  try {
    report = process.report.getReport()
  } finally {
    process.report.excludeNetwork = excludeNetwork
  }
  if (report.header && report.header.glibcVersionRuntime) return false
  return Array.isArray(report.sharedObjects) && report.sharedObjects.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'))
}

function platformTag() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function nativeError(message) {
  return new LeakprobeError('ERR_LEAKPROBE_NATIVE', message)
}

function fromPackage(tag, version) {
  const name = `leakprobe-${tag}`
  let manifest
  try {
    manifest = require.resolve(`${name}/package.json`, { paths: [ROOT] })
  } catch {
    return null
  }
  const found = JSON.parse(fs.readFileSync(manifest, 'utf8')).version
  if (found !== version) {
    throw nativeError(`leakprobe ${version} found ${name} ${found}; their versions must match. ` +
      `Reinstall them together: npm install leakprobe@${version}`)
  }
  return require(path.join(path.dirname(manifest), `leakprobe.${tag}.node`))
}

function load() {
  const tag = platformTag()
  const local = path.join(ROOT, 'native', `leakprobe.${tag}.node`)
  if (fs.existsSync(local)) return require(local)
  const { version } = require('../package.json')
  const prebuilt = fromPackage(tag, version)
  if (prebuilt) return prebuilt
  const fromSource = 'To build it from source (needs Rust, https://rustup.rs): ' +
    'cd node_modules/leakprobe && npx @napi-rs/cli@3 build --release --platform --output-dir native'
  if (PREBUILT.includes(tag)) {
    throw nativeError(`leakprobe's native addon for ${tag} is missing: the optional package ` +
      `leakprobe-${tag} was not installed (npm skips optional packages with --omit=optional, and ` +
      `a lockfile made on another platform may leave it out). Install it: npm install ` +
      `leakprobe-${tag}@${version}. ${fromSource}`)
  }
  throw nativeError(`leakprobe has no prebuilt native addon for ${tag} (prebuilt: ${PREBUILT.join(', ')}). ${fromSource}`)
}

module.exports = load()
