'use strict'
// GET /snapshots/:id: an open file streamed to the client. Nothing here can throw into the host:
// stream errors after the headers end the response (the client sees a cut-off download, never a
// second set of headers), and a client that goes away destroys the stream, which closes the file.
const fs = require('node:fs')
const { pipeline } = require('node:stream')
const { LeakprobeError } = require('../errors')

// `file`: { fd, size } (the store opened it). `onError(err)` hears of failures other than the
// client going away. The response carries exactly `size` bytes or is destroyed.
function sendFile(res, { fd, size }, headers, onError = () => {}) {
  res.writeHead(200, { 'cache-control': 'no-store', ...headers, 'content-length': size })
  if (size === 0) {
    fs.close(fd, () => {})
    res.end()
    return
  }
  const stream = fs.createReadStream(null, { fd, start: 0, end: size - 1, autoClose: true })
  // a file cut short after it was opened would leave the client waiting for the rest
  async function* exactly(source) {
    let sent = 0
    for await (const chunk of source) {
      sent += chunk.length
      yield chunk
    }
    if (sent !== size) throw new LeakprobeError('ERR_LEAKPROBE_READ', `the snapshot ended after ${sent} of ${size} bytes`)
  }
  pipeline(stream, exactly, res, (err) => {
    if (!err) return
    if (!res.destroyed) res.destroy()
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      try { onError(err) } catch { /* the app's hook failed: the response is gone either way */ }
    }
  })
}

module.exports = { sendFile }
