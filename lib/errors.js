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

// The native side reports `[CODE] message`; lift the code into `err.code`.
function fromNative(err) {
  if (err instanceof LeakprobeError) return err
  const msg = (err && err.message) || String(err)
  const m = /^\[(ERR_LEAKPROBE_[A-Z_]+)\] ([\s\S]*)$/.exec(msg)
  if (m) return new LeakprobeError(m[1], m[2])
  return new LeakprobeError('ERR_LEAKPROBE_INTERNAL', msg)
}

function invalidArg(message) {
  return new LeakprobeError('ERR_LEAKPROBE_INVALID_ARG', message)
}

module.exports = { LeakprobeError, fromNative, invalidArg }
