'use strict'
// Gzip bombs: small files that inflate to gigabytes of one repeated pattern inside snapshot JSON.
// Each is a multi-member gzip file (RFC 1952 allows members back to back; gunzip and leakprobe
// read them as one stream): one member for the text before the bomb, the same 16 MiB member of
// the pattern over and over, one for the text after. ~1 MB on disk per GiB, made in a fraction
// of a second instead of deflating gigabytes.
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')

const MEMBER = 16 << 20

const META = {
  node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'detachedness'],
  node_types: [['hidden', 'array', 'string', 'object'], 'string', 'number', 'number', 'number', 'number'],
  edge_fields: ['type', 'name_or_index', 'to_node'],
  edge_types: [['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'], 'string_or_number', 'node'],
  location_fields: ['object_index', 'script_id', 'line', 'column'],
}
const header = (extra = {}) => JSON.stringify({ meta: META, node_count: 1, edge_count: 0, ...extra })
const ONE_NODE = '"nodes":[0,0,1,0,0,0],"edges":[]'

// name → [text before, pattern, text after]
const SHAPES = {
  // one string in "strings" of gigabytes
  string: [`{"snapshot":${header()},${ONE_NODE},"strings":["`, 'a', '"]}'],
  // a string of gigabytes inside the header
  header: [`{"snapshot":{"meta":${JSON.stringify(META)},"title":"`, 'a', '"},"nodes":[]}'],
  // a top-level key of gigabytes
  key: ['{"', 'a', '":1}'],
  // gigabytes of '[' under a key leakprobe does not read
  nesting: [`{"snapshot":${header()},${ONE_NODE},"trace_tree":`, '[', ']}'],
  // a node_count the file cannot hold (2^28 - 1 nodes: 3 GB of "0," at least), then "0,0,0,…"
  nodeCount: [`{"snapshot":${header({ node_count: 268435455 })},"nodes":[`, '0,', '0]}'],
}

// Writes `name` (a key of SHAPES) with `gib` GiB of its pattern into `dir`; returns the path.
function writeBomb(dir, name, gib = 1) {
  const [before, pattern, after] = SHAPES[name]
  const file = path.join(dir, `${name}.heapsnapshot.gz`)
  const member = zlib.gzipSync(Buffer.alloc(MEMBER, pattern), { level: 9 })
  const fd = fs.openSync(file, 'w')
  try {
    fs.writeSync(fd, zlib.gzipSync(before))
    for (let i = 0; i < (gib * (1 << 30)) / MEMBER; i++) fs.writeSync(fd, member)
    fs.writeSync(fd, zlib.gzipSync(after))
  } finally {
    fs.closeSync(fd)
  }
  return file
}

module.exports = { SHAPES, writeBomb }
