'use strict'
// Progress for the CLI's long steps, on stderr (stdout holds the result only).
// On a TTY: one line per step, redrawn in place with a spinner, the elapsed time and, when the
// step knows it, how far it is (bytes transferred). Elsewhere (CI logs, pipes): a plain line when
// a step starts and one when it ends, nothing in between.
const { bytes } = require('../format')

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

function seconds(ms) {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`
}

function createProgress({ stream = process.stderr, quiet = false, tty = Boolean(stream.isTTY) && !process.env.CI } = {}) {
  let active = null

  function write(text) {
    if (!quiet) stream.write(text)
  }

  // a line of ours while a spinner is drawn: clear the spinner first, redraw it after
  function log(line) {
    if (active && tty) write('\r\x1b[K')
    write(`leakprobe: ${line}\n`)
    if (active && tty) active.draw()
  }

  function step(label) {
    if (active) active.end()
    const started = Date.now()
    let detail = ''
    let frame = 0
    let timer = null
    const s = {
      draw() {
        write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${label}… ${seconds(Date.now() - started)}${detail ? `  ${detail}` : ''}`)
      },
      // what the step knows of its own progress: a sentence, or { text, done, total } in bytes
      update(d) {
        // off a TTY a sentence is worth a line (a wait); byte counts are not
        if (!tty && typeof d === 'string' && d !== detail) write(`leakprobe: ${label}: ${d}\n`)
        detail = typeof d === 'string' ? d
          : `${d.text ? `${d.text} ` : ''}${d.total ? `${bytes(d.done)} of ${bytes(d.total)} (${Math.floor((100 * d.done) / d.total)}%)` : bytes(d.done)}`
      },
      done(result) {
        s.end()
        write(`leakprobe: ${label}: ${result ? `${result}, ` : ''}${seconds(Date.now() - started)}\n`)
      },
      fail() {
        s.end()
        write(`leakprobe: ${label}: failed after ${seconds(Date.now() - started)}\n`)
      },
      end() {
        if (active !== s) return
        active = null
        if (timer) clearInterval(timer)
        if (tty) write('\r\x1b[K')
      },
    }
    active = s
    if (tty) {
      s.draw()
      timer = setInterval(() => s.draw(), 100)
      timer.unref()
    } else {
      write(`leakprobe: ${label}…\n`)
    }
    return s
  }

  // run `fn(step)` as a step: done with `describe(result)`, failed when it throws
  async function run(label, fn, describe) {
    const s = step(label)
    try {
      const r = await fn(s)
      s.done(describe ? describe(r) : '')
      return r
    } catch (e) {
      s.fail()
      throw e
    }
  }

  return { step, run, log, tty }
}

// onProgress for analyze()/compare(): a line per phase, the bytes read on a TTY
function nativeProgress(s, names = []) {
  let phase = ''
  return (p) => {
    const what = names[p.item] ? `${p.phase} ${names[p.item]}` : p.phase
    if (p.phase === 'done' || p.phase === 'starting') return
    if (what !== phase) {
      phase = what
      s.update(what)
    }
    if (p.phase === 'reading' && p.total) s.update({ text: what, done: p.done, total: p.total })
  }
}

module.exports = { createProgress, nativeProgress, seconds }
