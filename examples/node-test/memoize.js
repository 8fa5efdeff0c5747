'use strict'
// memoize(fn, { max }): caches fn's results by key, evicting the least recently used past `max`.
// Without `max` the cache grows with every new key: the classic leak of a memoized lookup keyed by
// user id, URL or query.
function memoize(fn, { max = Infinity } = {}) {
  const cache = new Map()
  return async function memoized(key) {
    if (cache.has(key)) {
      const hit = cache.get(key)
      cache.delete(key) // re-insert: Map keeps insertion order, so the oldest is first
      cache.set(key, hit)
      return hit
    }
    const value = await fn(key)
    cache.set(key, value)
    if (cache.size > max) cache.delete(cache.keys().next().value)
    return value
  }
}

module.exports = { memoize }
