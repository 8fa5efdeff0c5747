'use strict'
// Every public function rejects with an Error carrying a `code` (ERR_LEAKPROBE_*).

class LeakprobeError extends Error {
  constructor(code, message, extra) {
    super(message)
    this.name = 'LeakprobeError'
    this.code = code
    if (extra) Object.assign(this, extra)
  }
}

// The native side throws Errors with `code` (ERR_LEAKPROBE_*) and, for a snapshot's bytes,
// `offset` (src/napi/errors.rs). Anything else from it is a bug of ours: ERR_LEAKPROBE_INTERNAL.
function fromNative(err) {
  if (err instanceof LeakprobeError) return err
  const message = (err && err.message) || String(err)
  const code = err && typeof err.code === 'string' && err.code.startsWith('ERR_LEAKPROBE_') ? err.code : 'ERR_LEAKPROBE_INTERNAL'
  const offset = err && typeof err.offset === 'number' ? { offset: err.offset } : undefined
  return new LeakprobeError(code, message, offset)
}

function invalidArg(message) {
  return new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', message)
}

module.exports = { LeakprobeError, fromNative, invalidArg }
