#!/usr/bin/env node
'use strict'
// What a user gets from npm: packs leakprobe and its linux-x64-gnu platform package (as the
// release workflow does), installs both tarballs into an empty project with cargo and rustc off
// PATH, and runs require('leakprobe'), `npx leakprobe demo`, `leakprobe analyze` and capture()
// there. Exits non-zero, saying which step failed, when any does.
//   node scripts/test-pack.js [--keep]   (--keep: leave the temp project and print its path)
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const pkg = require('../package.json')
const TAG = 'linux-x64-gnu'

function run(cmd, args, opts) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300000, ...opts })
  } catch (err) {
    // eslint-disable-next-line preserve-caught-error -- the message has all of it (exit, output); the cause would print the output twice
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${err.status}):\n${err.stdout || ''}${err.stderr || ''}`)
  }
}

// PATH without the directories that hold cargo or rustc: a production image has neither
function pathWithoutRust() {
  return process.env.PATH.split(path.delimiter)
    .filter((dir) => !['cargo', 'rustc', 'rustup'].some((tool) => fs.existsSync(path.join(dir, tool))))
    .join(path.delimiter)
}

function packPlatform(tmp) {
  const binary = path.join(ROOT, 'native', `leakprobe.${TAG}.node`)
  if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: run npm run build first`)
  const dir = path.join(tmp, `platform-${TAG}`)
  fs.mkdirSync(dir)
  fs.copyFileSync(path.join(ROOT, 'npm', TAG, 'package.json'), path.join(dir, 'package.json'))
  fs.copyFileSync(path.join(ROOT, 'npm', TAG, 'README.md'), path.join(dir, 'README.md'))
  fs.copyFileSync(binary, path.join(dir, `leakprobe.${TAG}.node`))
  return JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: dir }))[0]
}

function main() {
  if (`${process.platform}-${process.arch}` !== 'linux-x64') {
    console.log(`test-pack: packs the linux-x64-gnu package only; this is ${process.platform}-${process.arch}`)
    return
  }
  const keep = process.argv.includes('--keep')
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-pack-'))
  try {
    // --ignore-scripts: `prepare` would rebuild the addon, which the packed files do not need
    const main = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT }))[0]
    const files = main.files.map((f) => f.path)
    for (const want of ['LICENSE', 'README.md', 'ARCHITECTURE.md', 'BENCHMARKS.md', 'SECURITY.md', 'index.d.ts', 'bin/leakprobe.js']) {
      assert.ok(files.includes(want), `the tarball ships ${want}`)
    }
    assert.ok(!files.some((f) => f.startsWith('native/') || f.startsWith('target/') || f.endsWith('.node')),
      `the main tarball holds no binary: ${files.filter((f) => f.endsWith('.node')).join(', ')}`)
    const platform = packPlatform(tmp)
    console.log(`test-pack: ${main.filename} ${(main.size / 1024).toFixed(0)} kB, ${platform.filename} ${(platform.size / 1024).toFixed(0)} kB`)

    const app = path.join(tmp, 'app')
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
    const env = { ...process.env, PATH: pathWithoutRust(), CARGO: '', RUSTC: '' }
    for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key]
    assert.throws(() => execFileSync('cargo', ['--version'], { env, stdio: 'ignore' }), 'cargo is off PATH')
    const started = Date.now()
    run('npm', ['install', '--no-audit', '--no-fund', path.join(tmp, platform.filename), path.join(tmp, main.filename)], { cwd: app, env })
    console.log(`test-pack: installed without cargo in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const installed = path.join(app, 'node_modules', 'leakprobe')
    assert.ok(!fs.existsSync(path.join(installed, 'native')), 'nothing was built at install')
    assert.ok(!fs.existsSync(path.join(app, 'node_modules', '@napi-rs')), 'no build tools installed')

    const node = (args) => run(process.execPath, args, { cwd: app, env })
    assert.equal(node(['-e', "const l = require('leakprobe'); process.stdout.write(typeof l.analyze + typeof l.capture)"]), 'functionfunction')
    const demo = run('npx', ['--no-install', 'leakprobe', 'demo'], { cwd: app, env })
    assert.match(demo, /responseCache|Map/, `the demo names its leak:\n${demo}`)
    const fixture = path.join(ROOT, '__test__', 'fixtures', 'small.heapsnapshot.gz')
    const report = JSON.parse(run('npx', ['--no-install', 'leakprobe', 'analyze', fixture, '--json'], { cwd: app, env }))
    assert.equal(report.format, 'leakprobe-report/1')
    assert.ok(report.snapshot.nodes > 0)
    const captured = JSON.parse(node(['-e',
      "require('leakprobe').capture({ dir: process.argv[1] }).then((c) => process.stdout.write(JSON.stringify(c)))", tmp]))
    assert.ok(captured.bytes > 0 && captured.nodes > 0, `capture() wrote a snapshot: ${JSON.stringify(captured)}`)
    console.log(`test-pack: require, demo, analyze and capture (${captured.nodes} nodes) work from the tarball`)

    // the loader's errors: a platform package of another version, then none at all
    const requireError = () => JSON.parse(node(['-e',
      "try { require('leakprobe'); process.stdout.write('null') } catch (e) { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })) }"]))
    const platformManifest = path.join(app, 'node_modules', `leakprobe-${TAG}`, 'package.json')
    const manifest = JSON.parse(fs.readFileSync(platformManifest, 'utf8'))
    fs.writeFileSync(platformManifest, JSON.stringify({ ...manifest, version: '0.0.0-other' }))
    const mismatch = requireError()
    assert.equal(mismatch && mismatch.code, 'ERR_LEAKPROBE_NATIVE', JSON.stringify(mismatch))
    assert.match(mismatch.message, new RegExp(`found leakprobe-${TAG} 0\\.0\\.0-other; their versions must match`))
    fs.rmSync(path.dirname(platformManifest), { recursive: true })
    const missing = requireError()
    assert.equal(missing && missing.code, 'ERR_LEAKPROBE_NATIVE', JSON.stringify(missing))
    assert.match(missing.message, new RegExp(`npm install leakprobe-${TAG}@${pkg.version.replace(/\./g, '\\.')}`))
    console.log('test-pack: without its platform package, or with another version of it, require says which to install')
  } finally {
    if (keep) console.log(`test-pack: kept ${tmp}`)
    else fs.rmSync(tmp, { recursive: true, force: true })
  }
}

try {
  main()
} catch (err) {
  console.error(`test-pack: ${err.message}`)
  process.exit(1)
}
