'use strict'
// The compare report's newer fields on every surface: a chain's repeated path steps collapse
// (`repeat`, `repeatSteps`), Node-internal edges are marked, the group's own counts sit beside
// the class's — in the JSON, format() (the CLI's text) and the HTML page.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const leakprobe = require('..')
const { renderHtml } = require('../lib/html-report')

test('check(): a linked list that grows is one group of every node added, its path collapsed', async () => {
  class Pending { constructor(n) { this.n = n; this.next = null } }
  class Queue { constructor() { this.head = null; this.tail = null } }
  const queue = new Queue()
  let n = 0
  const push = () => {
    const node = new Pending(n++)
    if (queue.tail) queue.tail.next = node
    else queue.head = node
    queue.tail = node
  }
  const c = await leakprobe.check(() => { for (let i = 0; i < 40; i++) push() }, { rounds: 3, warmup: 2 })
  assert.equal(c.leak, true)
  const top = c.suspects[0]
  assert.equal(top.name, 'Pending')
  // each node dominates the next: still every node added before the target, not "1 object"
  assert.equal(top.count, 120)
  assert.deepEqual(top.counts, [80, 200, 320])
  assert.equal(top.classCounts.length, 3)
  assert.deepEqual([top.holder.name, top.holder.edge], ['Queue', 'head'])
  // the path to the first new node walks the 80 older ones: one step, repeated
  const rep = top.path.find((s) => s.repeat)
  assert.ok(rep, JSON.stringify(top.path))
  assert.deepEqual([rep.name, rep.edge, rep.repeat], ['Pending', 'next', 80])
  assert.ok(top.path.every((s) => s.repeat === undefined || s.repeat > 1))
  const text = leakprobe.format(c)
  assert.match(text, /LEAK: 120 Pending objects .* held by Queue\.head, growing 80 → 200 → 320/)
  assert.match(text, /Pending\.next ×80 → Pending/)
  queue.head = queue.tail = null
})

const comparison = {
  format: 'leakprobe-compare/1',
  leak: true,
  growth: { bytes: 1000, objects: 10 },
  snapshots: [{ role: 'baseline', nodes: 1, totalBytes: 1 }, { role: 'target', nodes: 2, totalBytes: 2 }, { role: 'final', nodes: 3, totalBytes: 3 }],
  threshold: { bytes: 1, count: 1 },
  timings: { parseMs: 1, analyzeMs: 1 },
  suspects: [{
    name: 'PendingRetry', count: 8000, selfSize: 1, retainedSize: 2, holder: { id: 1, name: 'RetryQueue', edge: 'head' },
    path: [
      { id: 1, name: 'Server', type: 'object', edge: '_idlePrev', edgeType: 'property', internal: true },
      { id: 2, name: 'RetryQueue', type: 'object', edge: 'head', edgeType: 'property' },
      { id: 3, name: 'PendingRetry', type: 'object', edge: 'next', edgeType: 'property', repeat: 8299 },
      { id: 4, name: 'undo', type: 'closure', edge: 'context', edgeType: 'context', repeat: 3, repeatSteps: 2 },
      { id: 5, name: 'system / Context', type: 'object', edge: 'prev', edgeType: 'context' },
      { id: 6, name: 'PendingRetry', type: 'object', edge: '', edgeType: '' },
    ],
    sampleIds: [6], counts: [300, 8300, 16300], classCounts: [7388, 47388, 87388], growing: true, vmHeld: false, leak: true,
  }],
  classes: [],
}

test('format(): own and class counts, repeats and internal edges in the text', () => {
  const text = leakprobe.format(comparison)
  const keyed = JSON.parse(JSON.stringify(comparison))
  keyed.suspects[0].holder = { id: 1, name: 'SessionStore', edge: 'sessions[*]', keys: 4000 }
  assert.match(leakprobe.format(keyed), /held by SessionStore\.sessions\[\*\] \(4,000 keys\), growing/)
  assert.match(renderHtml({ comparison: keyed }), /SessionStore\.sessions\[\*\]<\/b> \(4,000 keys\)/)
  assert.match(text, /growing 300 → 8,300 → 16,300 \(class: 7,388 → 47,388 → 87,388\)/)
  assert.match(text, /group per snapshot +class per snapshot/)
  assert.match(text, /300→8,300→16,300 LEAK +7,388→47,388→87,388/)
  assert.match(text, /Server\._idlePrev° → RetryQueue\.head → PendingRetry\.next ×8,299 → \(undo\.context → system \/ Context\.prev\) ×3 → PendingRetry/)
  assert.match(text, /° an edge of Node's own machinery/)
  // older reports (no classCounts, no repeat): as before
  const old = JSON.parse(JSON.stringify(comparison))
  delete old.suspects[0].classCounts
  old.suspects[0].path = old.suspects[0].path.map(({ repeat, repeatSteps, internal, ...s }) => s)
  const plain = leakprobe.format(old)
  assert.doesNotMatch(plain, /class per snapshot|×|°/)
})

test('renderHtml(): repeats once with their count, internal edges marked', () => {
  const page = renderHtml({ comparison })
  assert.match(page, /PendingRetry<\/span><span class="edge">\.next<\/span> <b class="times">×8,299<\/b>/)
  assert.match(page, /<span class="edge internal" title="Node internal">\._idlePrev°<\/span>/)
  assert.match(page, /\(<span class="node">undo<\/span>.*system \/ Context.*\) <b class="times">×3<\/b>/)
  assert.match(page, /the group per snapshot 300 → 8,300 → 16,300; its class per snapshot 7,388 → 47,388 → 87,388/)
  assert.equal((page.match(/class="node">PendingRetry</g) || []).length, 2)
})
