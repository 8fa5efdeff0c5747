'use strict'
// `onProgress` for analyze() and compare(): the Rust task counts into a TaskProgress (atomics);
// we poll it on an unref'd timer, so the worker never waits on JS and JS never blocks.
const native = require('./native')
const { invalidArg } = require('./errors')

const POLL_MS = 100

function progressOption(fn, v) {
  if (v === undefined) return undefined
  if (typeof v !== 'function') throw invalidArg(`${fn}(): \`onProgress\` must be a function ({ phase, item, done, total }) => void`)
  return v
}

// run `task(handle)`, calling `onProgress(state)` while it runs and once when it ends
async function withProgress(onProgress, task) {
  if (!onProgress) return task(undefined)
  const handle = new native.TaskProgress()
  let last = ''
  const tell = () => {
    const s = handle.state()
    const key = `${s.phase}:${s.item}:${s.done}`
    if (key === last) return
    last = key
    try {
      onProgress(s)
    } catch (e) {
      process.emitWarning(`leakprobe: an onProgress callback threw: ${e && e.message}`)
    }
  }
  const timer = setInterval(tell, POLL_MS)
  timer.unref()
  try {
    return await task(handle)
  } finally {
    clearInterval(timer)
    tell()
  }
}

module.exports = { progressOption, withProgress }
