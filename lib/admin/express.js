'use strict'
// app.use('/_leakprobe', leakprobe.express(opts)): express strips the mount path from req.url,
// so the node:http handler serves it as is. Works with express 4 and 5; express is not loaded.
const { createHandler } = require('./handler')

function expressRoute(options) {
  const handle = createHandler({ ...options, prefix: undefined })
  return function leakprobeRoute(req, res, next) {
    handle(req, res, next)
  }
}

module.exports = { expressRoute }
