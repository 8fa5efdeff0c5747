'use strict'
// `leakprobe watch --url URL`: polls a running app's route (GET /stats) and prints one line per
// poll — the post-GC heap floor, its slope, the top growing allocation sites — until the app's
// monitor reports a leak (exit 1, with the sites, their stacks and callers) or the duration ends
// (exit 0). The app does the work (monitor({ sampling }) in its process); this side only reads.
// --metrics: each poll prints the route's GET /metrics instead (Prometheus text: the fleet
// metrics of README's Metrics, as a scrape would see them), after a `# ` comment line.
const path = require('node:path')
const { RouteClient } = require('./route-client')
const { bytes } = require('../format')
const { LeakprobeError } = require('../errors')

const SITES_PER_LINE = 3
const STACK_FRAMES = 8

const signedBytes = (v) => `${v >= 0 ? '+' : '-'}${bytes(Math.abs(Math.round(v)))}`
const clock = (ms) => new Date(ms).toTimeString().slice(0, 8)
const rise = (s) => (s.growth && s.growth.length > 1 ? s.growth[s.growth.length - 1] - s.growth[0] : 0)
// what the app's URL says, without the file:// of ES modules
const place = (f) => `${String(f.url || 'native').replace(/^file:\/\//, '')}:${f.line}`

// the heap floor now: the last sample with a post-GC figure (an interval without a major GC has none)
function floorOf(samples) {
  for (let i = (samples || []).length - 1; i >= 0; i--) {
    if (Number.isFinite(samples[i].postGcHeapUsed)) return samples[i].postGcHeapUsed
  }
  return null
}

// the floor's slope per minute (the monitor's is per interval)
function slopePerMinute(stats) {
  const last = stats.samples && stats.samples[stats.samples.length - 1]
  if (!last || !Number.isFinite(last.slope) || !stats.monitor || !(stats.monitor.intervalMs > 0)) return null
  return Math.round((last.slope * 60_000) / stats.monitor.intervalMs)
}

// `remember server.js:13 +3.10 MB`, `emitWithAck socket.js:230 (socket.io) +1.00 MB`
function siteShort(s) {
  return `${s.fn} ${path.basename(place(s))}${s.package ? ` (${s.package})` : ''} ${signedBytes(rise(s))}`
}

function pollLine(p) {
  const parts = [clock(p.time), `floor ${p.floor === null ? '— (no major GC yet)' : bytes(p.floor)}`]
  if (p.slopePerMinute !== null) parts.push(`${signedBytes(p.slopePerMinute)}/min`)
  parts.push(p.growing ? 'rising' : 'steady')
  if (p.sites === null) parts.push('(no sampling: sites not named)')
  else if (!p.sites.length) parts.push('no growing site')
  else parts.push(p.sites.map(siteShort).join(' · '))
  return parts.join('  ')
}

// the verdict block: the leak, then each site with its figures, caller and stack
function verdictText(v) {
  const when = v.leakTime < v.startedAt ? 'before this watch started' : `${Math.round((v.leakTime - v.startedAt) / 1000)} s into this watch`
  const floor = v.floor === null ? ''
    : `; heap floor ${bytes(v.floor)}${v.firstFloor !== null && v.firstFloor !== v.floor ? ` (${bytes(v.firstFloor)} when this watch started)` : ''}`
  const slope = v.slopePerMinute !== null ? `, ${signedBytes(v.slopePerMinute)}/min` : ''
  const out = ['', `LEAK: the app's monitor reported a leak at ${clock(v.leakTime)} (${when})${floor}${slope}`]
  if (v.sites === null) {
    out.push('the monitor does not sample, so no allocation site is named: give the route monitor: leakprobe.monitor({ sampling: true })')
    out.push('(or find who holds it with snapshots: leakprobe check / leakprobe capture)')
    return out.join('\n')
  }
  if (!v.sites.length) {
    out.push('no single allocation site rose clear of the sampling noise yet; GET /sites on the route shows the latest')
    return out.join('\n')
  }
  out.push('Where the growing memory is allocated (sampled live bytes, first → last read of the window):')
  v.sites.forEach((s, i) => {
    const g = s.growth || []
    const figures = [`${signedBytes(rise(s))}${g.length > 1 ? ` (${bytes(g[0])} → ${bytes(g[g.length - 1])} over ${g.length} reads)` : ''}`]
    if (Number.isFinite(s.share)) figures.push(`${Math.round(s.share * 100)}% of the floor's rise`)
    out.push(`#${i + 1} ${s.fn}  ${place(s)}:${s.column}${s.package ? `  (${s.package})` : ''}  ${figures.join(', ')}`)
    if (s.caller) out.push(`   called from ${s.caller.fn} (${place(s.caller)}:${s.caller.column})`)
    for (const frame of (s.stack || []).slice(0, STACK_FRAMES)) out.push(`   at ${frame}`)
  })
  return out.join('\n')
}

// a site for a --json poll line: everything but the stack (the verdict has it)
const siteLite = ({ stack, ...s }) => s

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// the route's GET /metrics; a route from before it answers 404 ERR_LEAKPROBE_NOT_FOUND
async function fetchMetrics(client) {
  try {
    return (await client.text('GET', '/metrics', 200)).text
  } catch (e) {
    if (e.status === 404 && e.remoteCode === 'ERR_LEAKPROBE_NOT_FOUND') {
      e.message += ' — this route has no GET /metrics: it comes from an older leakprobe (watch without --metrics still works)'
    }
    throw e
  }
}

// A leak the monitor reports from the floor before any site has risen clear of the sampling
// noise: the next polls' sites usually name it, so the verdict waits this many polls for one.
const SITE_WAIT_POLLS = 5

// leakprobe watch --url URL [--token T] [--interval S] [--duration S] [--json] [--metrics]
async function watchCommand(f, { stdout = process.stdout, stderr = process.stderr } = {}) {
  const intervalMs = (f.interval === undefined ? 10 : f.interval) * 1000
  const durationMs = (f.duration === undefined ? 600 : f.duration) * 1000
  const client = new RouteClient(f.url, f.token || process.env.LEAKPROBE_TOKEN, { timeoutMs: Math.max(30_000, intervalMs) })
  const note = (m) => stderr.write(`leakprobe: ${m}\n`)
  const print = (line) => stdout.write(`${line}\n`)
  if (client.warning) note(`warning: ${client.warning}`)
  const startedAt = Date.now()
  let firstFloor = null
  let polls = 0
  let warnedError = false
  let waitedForSites = 0
  for (;;) {
    const { body: stats } = await client.json('GET', '/stats', 200)
    if (!stats || typeof stats !== 'object' || !stats.monitor) {
      throw new LeakprobeError('ERR_LEAKPROBE_REMOTE', `the route at ${client.where('')} has no monitor, so nothing there can report a leak: give the route one, ` +
        "e.g. leakprobe.express({ token, monitor: leakprobe.monitor({ sampling: true }) }) (a route from an older leakprobe does not report its monitor's state)")
    }
    if (polls === 0) {
      note(`watching ${client.where('')} every ${intervalMs / 1000} s for ${durationMs / 1000} s` +
        (stats.monitor.sampling ? '' : " (its monitor does not sample: the floor is watched, allocation sites are not named; monitor({ sampling: true }) names them)"))
    }
    polls++
    const sites = stats.sites || null
    if (sites && sites.error && !warnedError) {
      warnedError = true
      note(`the app's sampling profiler: ${sites.error.code}: ${sites.error.message}`)
    }
    const floor = floorOf(stats.samples)
    if (firstFloor === null) firstFloor = floor
    const poll = {
      time: Date.now(),
      floor,
      slopePerMinute: slopePerMinute(stats),
      growing: Boolean(stats.growing),
      sites: sites ? (sites.growing || []).slice(0, SITES_PER_LINE) : null,
    }
    const metrics = f.metrics ? await fetchMetrics(client) : null
    if (f.json) {
      print(JSON.stringify({ event: 'poll', ...poll, time: new Date(poll.time).toISOString(), sites: poll.sites && poll.sites.map(siteLite), ...(f.metrics ? { metrics } : {}) }))
    } else if (f.metrics) {
      stdout.write(`# leakprobe watch: ${client.where('/metrics')} at ${new Date(poll.time).toISOString()}\n${metrics}`)
    } else {
      print(pollLine(poll))
    }
    const left = startedAt + durationMs - Date.now()
    if (stats.leak) {
      let leakSites = stats.leak.sites === undefined ? null : stats.leak.sites
      if (leakSites && !leakSites.length && sites) {
        if (sites.growing && sites.growing.length) {
          leakSites = sites.growing
        } else if (waitedForSites < SITE_WAIT_POLLS && left > 0) {
          waitedForSites++
          await sleep(Math.min(intervalMs, left))
          continue
        }
      }
      const v = { leakTime: stats.leak.time, startedAt, firstFloor, floor, slopePerMinute: poll.slopePerMinute, sites: leakSites }
      print(f.json ? JSON.stringify({ event: 'leak', time: new Date(v.leakTime).toISOString(), floor, firstFloor, slopePerMinute: v.slopePerMinute, sites: v.sites }) : verdictText(v))
      return 1
    }
    if (left <= 0) {
      const secs = Math.round((Date.now() - startedAt) / 1000)
      print(f.json ? JSON.stringify({ event: 'end', leak: false, polls, seconds: secs })
        : `\nno leak: the app's monitor reported none in ${secs} s (${polls} polls)`)
      return 0
    }
    await sleep(Math.min(intervalMs, left))
  }
}

module.exports = { watchCommand, pollLine, verdictText, floorOf }
