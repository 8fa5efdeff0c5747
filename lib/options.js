'use strict'
// The numeric option checks, one wording for all: each returns the value (or `dflt` when it is
// undefined) and throws ERR_LEAKPROBE_INVALID_ARG naming the option, its range and what it got.
// `what` is the option as the message names it, with its function: "analyze(): `top`".
const { invalidArg } = require('./errors')

// also for callers with errors of their own (the CLI's usage errors)
const isWholeNumber = (v, min = 0, max = Infinity) => Number.isInteger(v) && v >= min && v <= max
const isNumber = (v, min = -Infinity, max = Infinity) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max

const range = (min, max) => (max < Infinity ? `from ${min} to ${max}` : `from ${min} up`)

// `got`: how to show a value that did not arrive as a number (a query string's text)
function wholeNumber(what, v, { min = 0, max = Infinity, dflt, got = v } = {}) {
  if (v === undefined) return dflt
  if (!isWholeNumber(v, min, max)) throw invalidArg(`${what} must be a whole number ${range(min, max)}, got ${got}`)
  return v
}

function number(what, v, { min = 0, max = Infinity, dflt } = {}) {
  if (v === undefined) return dflt
  if (!isNumber(v, min, max)) throw invalidArg(`${what} must be a number ${range(min, max)}, got ${v}`)
  return v
}

module.exports = { wholeNumber, number, isWholeNumber, isNumber }
