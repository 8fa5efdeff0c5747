'use strict'
// the work being memoized: a profile per user, as a database or an HTTP call would return it
async function loadProfile(userId) {
  return { userId, name: `user ${userId}`, roles: ['reader'], settings: { theme: 'dark', pageSize: 50 }, loadedAt: new Date() }
}

module.exports = { loadProfile }
