'use strict'
// Address allowlists: single addresses and CIDR blocks, IPv4 and IPv6, kept by node:net's
// BlockList (IPv4-mapped IPv6 addresses such as ::ffff:127.0.0.1 match their IPv4 form). Entries
// are checked strictly at setup: a bare address (no brackets, port, zone or spaces) or
// ADDRESS/PREFIX with a whole prefix in range; anything else is an error naming the entry.
const net = require('node:net')

const LOOPBACK = ['127.0.0.0/8', '::1/128']

// → { address, family: 'ipv4'|'ipv6', prefix } or a reason (string) why `entry` is not one
function parseEntry(entry) {
  if (typeof entry !== 'string') return `entries must be strings (addresses or CIDR blocks), got ${entry === null ? 'null' : typeof entry}`
  const m = /^([^/]*)(?:\/(.*))?$/s.exec(entry)
  const address = m[1]
  const family = bareFamily(address)
  if (!family) return 'not an IP address (write it bare: no port, brackets, zone or spaces)'
  const width = family === 'ipv4' ? 32 : 128
  if (m[2] === undefined) return { address, family, prefix: width }
  if (!/^\d{1,3}$/.test(m[2])) return `the prefix length after "/" must be a whole number from 0 to ${width}`
  const prefix = Number(m[2])
  if (prefix > width) return `the prefix length after "/" must be a whole number from 0 to ${width}`
  return { address, family, prefix }
}

// 'ipv4' | 'ipv6' for a bare address, else null
function bareFamily(s) {
  if (typeof s !== 'string' || s.includes('%')) return null
  const f = net.isIP(s)
  return f === 4 ? 'ipv4' : f === 6 ? 'ipv6' : null
}

// `entries`: one entry or a list. Throws a TypeError naming every bad entry (the route turns it
// into ERR_LEAKPROBE_INVALID_ARG). → (address) => boolean
function allowList(entries = LOOPBACK, what = 'allow') {
  const list = typeof entries === 'string' ? [entries] : entries
  if (!Array.isArray(list)) throw new TypeError(`\`${what}\` must be an address or CIDR block, or a list of them`)
  if (list.length === 0) throw new TypeError(`\`${what}\` is empty: nobody could call the route (leave it out for loopback only)`)
  const blocks = new net.BlockList()
  const bad = []
  for (const entry of list) {
    const e = parseEntry(entry)
    if (typeof e === 'string') {
      bad.push(`${typeof entry === 'string' ? JSON.stringify(entry) : String(entry)}: ${e}`)
      continue
    }
    blocks.addSubnet(e.address, e.prefix, e.family)
  }
  if (bad.length) throw new TypeError(`\`${what}\` has ${bad.length === 1 ? 'a bad entry' : 'bad entries'}: ${bad.join('; ')}`)
  return (addr) => {
    // a socket's link-local peer carries its zone (fe80::1%eth0): the address is what counts
    const bare = typeof addr === 'string' ? addr.replace(/%[^%]*$/, '') : addr
    const family = bareFamily(bare)
    return family !== null && blocks.check(bare, family)
  }
}

module.exports = { allowList, bareFamily, LOOPBACK }
