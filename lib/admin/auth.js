'use strict'
// Bearer tokens only, compared in constant time: both sides are hashed first, so neither the
// length nor a common prefix of a wrong token shows in the timing.
const crypto = require('node:crypto')

const digest = (s) => crypto.createHash('sha256').update(s, 'utf8').digest()

function tokenChecker(token) {
  const want = digest(token)
  return (header) => {
    if (typeof header !== 'string') return false
    const m = /^Bearer ([\x21-\x7e]+)$/.exec(header)
    if (!m) return false
    return crypto.timingSafeEqual(digest(m[1]), want)
  }
}

module.exports = { tokenChecker }
