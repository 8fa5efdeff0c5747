'use strict'
// An optional peer dependency (prom-client, @opentelemetry/api), found the way the application
// finds it: from its working directory and its main module first (the copy its registry or meter
// came from), then from leakprobe's own place. Never loaded by require('leakprobe') itself.
const { LeakprobeError } = require('../errors')

// the resolved files, the application's first, without repeats
function candidates(name) {
  const places = [process.cwd(), require.main && require.main.path].filter(Boolean)
  const found = []
  for (const p of places) {
    try { found.push(require.resolve(name, { paths: [p] })) } catch { /* not from there */ }
  }
  try { found.push(require.resolve(name)) } catch { /* not from here either */ }
  return [...new Set(found)]
}

// The first copy that `fits` (e.g. the registry is one of its Registry), else the first found;
// ERR_LEAKPROBE_MISSING_PEER when there is none. `what`: what the caller asked for.
function loadPeer(name, what, fits = () => true) {
  const files = candidates(name)
  if (!files.length) {
    throw new LeakprobeError('ERR_LEAKPROBE_MISSING_PEER', `${what} needs the \`${name}\` package, an optional peer dependency of leakprobe that is not installed here: npm install ${name}`, { peer: name })
  }
  let first = null
  for (const file of files) {
    const mod = require(file)
    if (first === null) first = mod
    if (fits(mod)) return mod
  }
  return first
}

module.exports = { loadPeer }
