'use strict'
// Directories that hold snapshots (every secret in the process's memory) must be this user's
// alone: a directory another local user owns, or can write to, lets that user delete or swap the
// files, plant symlinks the process (often root) would follow, or read what it writes. The rules,
// checked without following symlinks (lstat):
//   - it is a directory, not a symlink to one;
//   - it is owned by this process's uid;
//   - neither its group nor others may write to it (mode & 0o022 === 0).
// A directory we create is 0700. On Windows (no uids, no modes) only the first rule applies.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')
const { LeakprobeError } = require('./errors')

const POSIX = process.platform !== 'win32'
const uid = () => (POSIX && typeof process.getuid === 'function' ? process.getuid() : null)

function dirError(message) {
  return new LeakprobeError('ERR_LEAKPROBE_DIR', message)
}

// Checks `dir` (creating it, mode 0700, when `create` and it is missing; its parent must exist)
// and returns its lstat. Throws ERR_LEAKPROBE_DIR saying what is wrong and what to do.
function ensurePrivateDir(dir, { create = true, what = 'the snapshot directory' } = {}) {
  let st
  try {
    st = fs.lstatSync(dir)
  } catch (e) {
    if (e.code !== 'ENOENT' || !create) throw dirError(`${what} ${dir} cannot be used: ${e.message}`)
    try {
      fs.mkdirSync(dir, { mode: 0o700 })
    } catch (m) {
      if (m.code !== 'EEXIST') {
        throw dirError(`cannot create ${what} ${dir}: ${m.code === 'ENOENT' ? 'its parent does not exist; create it first or pass another `dir`' : m.message}`)
      }
    }
    st = fs.lstatSync(dir)
  }
  if (st.isSymbolicLink()) throw dirError(`${what} ${dir} is a symbolic link; pass the real directory as \`dir\` (leakprobe never follows a link there)`)
  if (!st.isDirectory()) throw dirError(`${what} ${dir} exists and is not a directory; pass a directory as \`dir\``)
  const me = uid()
  if (me !== null) {
    if (st.uid !== me) throw dirError(`${what} ${dir} is owned by uid ${st.uid}, not by this process's uid ${me}: another user could read, replace or delete the snapshots; remove it or pass a directory of this user's as \`dir\``)
    if (st.mode & 0o022) throw dirError(`${what} ${dir} can be written by ${st.mode & 0o002 ? 'other users' : 'its group'} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); make it 0700 (chmod 700) or pass another \`dir\``)
  }
  return st
}

// `<os.tmpdir()>/leakprobe-<uid>`: this user's own, never shared with another user's processes
// (another user who made it first makes it unusable, never shared: the checks above refuse it)
function userDir() {
  const me = uid()
  const name = me !== null ? `leakprobe-${me}` : `leakprobe-${safe(os.userInfo().username)}`
  return path.join(os.tmpdir(), name)
}

const safe = (s) => String(s).replace(/[^A-Za-z0-9_.-]/g, '_') || 'user'

// The app this process runs: its main module (or script) and working directory. Two apps get two
// keys; the workers of one app (cluster, pm2) share one.
function appKey() {
  const main = (require.main && require.main.filename) || (process.argv[1] ? path.resolve(process.argv[1]) : '')
  return crypto.createHash('sha256').update(`${main}\0${process.cwd()}`).digest('hex').slice(0, 16)
}

module.exports = { ensurePrivateDir, userDir, appKey }
