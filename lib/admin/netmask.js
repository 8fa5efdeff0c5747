'use strict'
// Address allowlists: single addresses and CIDR blocks, IPv4 and IPv6 (IPv4-mapped IPv6
// addresses such as ::ffff:127.0.0.1 match their IPv4 form).
const net = require('node:net')

function v4ToBigInt(a) {
  return a.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n)
}

function v6ToBigInt(a) {
  // an embedded dotted quad at the end (::ffff:1.2.3.4)
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (m) {
    const v = v4ToBigInt(m[2])
    a = `${m[1]}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`
  }
  const [head, tail] = a.split('::')
  const h = head ? head.split(':') : []
  const t = tail !== undefined && tail !== '' ? tail.split(':') : []
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
}

// → { family: 4|6, value: BigInt } with IPv4-mapped IPv6 folded to IPv4; null if not an address
function parseAddress(addr) {
  if (typeof addr !== 'string') return null
  const bare = addr.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const fam = net.isIP(bare)
  if (fam === 4) return { family: 4, value: v4ToBigInt(bare) }
  if (fam === 6) {
    const value = v6ToBigInt(bare.toLowerCase())
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn }
    return { family: 6, value }
  }
  return null
}

function parseEntry(entry) {
  if (typeof entry !== 'string') throw new TypeError(`allow: entries must be strings (addresses or CIDRs), got ${typeof entry}`)
  const [addr, bits] = entry.split('/')
  const a = parseAddress(addr)
  if (!a) throw new TypeError(`allow: ${JSON.stringify(entry)} is not an IP address or CIDR block`)
  const width = a.family === 4 ? 32 : 128
  let prefix = width
  if (bits !== undefined) {
    prefix = Number(bits)
    // a mapped IPv6 block (::ffff:10.0.0.0/104) keeps its meaning on the IPv4 form
    if (a.family === 4 && net.isIP(addr) === 6) prefix -= 96
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > width) throw new TypeError(`allow: bad prefix length in ${JSON.stringify(entry)}`)
  }
  const shift = BigInt(width - prefix)
  return { family: a.family, shift, net: a.value >> shift }
}

const LOOPBACK = ['127.0.0.0/8', '::1/128']

function allowList(entries = LOOPBACK) {
  const list = entries.map(parseEntry)
  return (addr) => {
    const a = parseAddress(addr)
    if (!a) return false
    return list.some((e) => e.family === a.family && a.value >> e.shift === e.net)
  }
}

module.exports = { allowList, parseAddress, LOOPBACK }
