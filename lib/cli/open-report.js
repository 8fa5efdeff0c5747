'use strict'
// `leakprobe open --url URL [ID | BASELINE TARGET [FINAL]]`: the route's reports in a browser.
// A browser cannot send the route's bearer token (and the route must not take it from a cookie
// or the query string), so the CLI fetches the report or comparison with the token, renders the
// page here and opens the local file: the route's rule stays as it is.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { RouteClient } = require('./route-client')
const { createProgress } = require('./progress')
const { writeFileAtomic } = require('./files')
const { renderHtml } = require('../html-report')
const { LeakprobeError } = require('../errors')

// the platform's "open this file with its default app"
function browserCommand(file) {
  if (process.platform === 'darwin') return ['open', [file]]
  // `start`'s first quoted argument is a window title: an empty one, then the file
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '', file]]
  return ['xdg-open', [file]]
}

// Resolves true when the opener started; false (and the caller prints the path) when there is
// none, e.g. on a server without a desktop.
function openInBrowser(file) {
  const [cmd, args] = browserCommand(file)
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true })
    child.once('error', () => resolve(false))
    child.once('spawn', () => {
      child.unref()
      resolve(true)
    })
  })
}

async function openCommand(f) {
  const ids = f._
  if (ids.length === 2 || ids.length > 3) {
    throw new LeakprobeError('ERR_LEAKPROBE_USAGE', 'open takes one snapshot id (its report), or three: BASELINE TARGET FINAL (their comparison); none: the latest snapshot')
  }
  const progress = createProgress()
  const client = new RouteClient(f.url, f.token || process.env.LEAKPROBE_TOKEN, { timeoutMs: (f.timeout || 600) * 1000 })
  if (client.warning) progress.log(`warning: ${client.warning}`)
  let page
  let name
  if (ids.length === 3) {
    const comparison = await progress.run(`comparing ${ids.join(', ')} in the app`, () => client.compare(ids))
    page = { comparison }
    name = `leakprobe-compare-${ids[2]}.html`
  } else {
    let id = ids[0]
    if (!id) {
      const { body } = await client.json('GET', '/snapshots', 200)
      if (!body.snapshots.length) throw new LeakprobeError('ERR_LEAKPROBE_REMOTE', `the route at ${client.where('')} holds no snapshot yet: take one with leakprobe capture --url …`)
      id = body.snapshots[0].id // newest first
    }
    const report = await progress.run(`fetching the report of ${id}`, () => client.report(id))
    page = { report, title: `leakprobe: snapshot ${id}` }
    name = `leakprobe-${id}.html`
  }
  // the page holds names from the app's heap: private to this user, like the snapshots
  const file = path.resolve(f.out || path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'leakprobe-open-')), name))
  writeFileAtomic(file, renderHtml(page), { mode: 0o600 })
  process.stdout.write(`${file}\n`)
  if (!f['no-browser'] && !(await openInBrowser(file))) progress.log(`no browser to open it here (${browserCommand(file)[0]} not found): open ${file}`)
  return 0
}

module.exports = { openCommand }
