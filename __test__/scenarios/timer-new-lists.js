'use strict'
// Each connection starts a heartbeat with its own period, never cleared: every timer gets a new
// TimersList (Node keeps one list per duration), so the leak sits under lists created in the
// leaking rounds.
const http = require('node:http')
const { listen, traffic, close } = require('./http-util')

const PER_ROUND = 60
let period = 3600 * 1000

async function setup() {
  const server = http.createServer((req, res) => res.end('ok'))
  server.on('connection', (socket) => {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`
    // unref'd so this child can still exit; the leak is the same
    setInterval(function heartbeat() { return remote }, period++).unref()
  })
  const port = await listen(server)
  let n = 0
  return {
    // a fresh connection per request: no keep-alive
    round: () => traffic(port, Array.from({ length: PER_ROUND }, () => `/c/${n++}`), 4, false),
    close: () => close(server),
  }
}

// one list per timer: the group is the lists (each holding its one Timeout) or the timers, held
// by the timers module's map of lists, which existed before the leak began. At least one per
// connection: Node's own timers (an agent's, the server's) may add a list of a new duration.
module.exports = { setup, expect: { nameIncludes: ['TimersList', 'Timeout'], edge: 'timerListMap', perRoundMin: PER_ROUND } }
