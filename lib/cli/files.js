'use strict'
// The CLI's output files are written whole or not at all: a temp file beside, then a rename.
const fs = require('node:fs')

function writeFileAtomic(file, text, { mode } = {}) {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    fs.writeFileSync(tmp, text, mode === undefined ? undefined : { mode })
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

module.exports = { writeFileAtomic }
