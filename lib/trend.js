'use strict'
// The monitor's rule on the post-GC heap floor, one value per interval (pure, for tests).
// - growth: the floor rose in each of the last `growthSteps` intervals (by more than noise).
// - leak: over a full window the floor stayed above where the window started and never fell back
//   toward it (it keeps at least half of its highest rise), and rose by at least `minGrowth`:
//   the seed's rule, "the delta stays positive under load, never returning toward zero".
// A spike that comes back down is neither; a sawtooth that returns to its floor is not a leak.

// The window is time, not a count of floors: an interval without a major GC has no floor, and a
// slow leak that gets a major GC every few intervals must still fill its window. The window
// keeps the last floor taken at or before its start.

class Trend {
  constructor({ window = 30, growthSteps = 3, minGrowth = 1 << 20, noise = 64 * 1024, intervalMs = 1 } = {}) {
    this.window = window
    this.growthSteps = growthSteps
    this.minGrowth = minGrowth
    this.noise = noise
    this.intervalMs = intervalMs
    this.floors = []
    this.times = []
    this.growing = false
    this.leaking = false
    this._pushes = 0
  }

  // Adds a floor taken at `time` (ms; by default one interval after the last); returns
  // { growth, leak } — each true only when it starts.
  push(floor, time = this._pushes * this.intervalMs) {
    this._pushes++
    this.floors.push(floor)
    this.times.push(time)
    // half an interval of slack for the timer's jitter
    const span = (this.window - 1) * this.intervalMs - this.intervalMs / 2
    while (this.times.length > 1 && this.times[1] <= time - span) {
      this.floors.shift()
      this.times.shift()
    }
    const f = this.floors
    const rising = (i) => f[i] - f[i - 1] > Math.max(this.noise, f[i - 1] * 0.002)
    let growth = false
    let leak = false
    const n = f.length
    const lastRising = n > this.growthSteps && Array.from({ length: this.growthSteps }, (_, j) => rising(n - 1 - j)).every(Boolean)
    if (lastRising && !this.growing) growth = true
    // an episode ends when the floor is back near where the window starts
    if (this.growing && n > 1 && f[n - 1] - f[0] <= this.noise) this.growing = this.leaking = false
    if (lastRising) this.growing = true
    const full = n >= 3 && time - this.times[0] >= span
    if (full && this.sustained() && !this.leaking) {
      leak = true
      this.leaking = true
      this.growing = true
    }
    return { growth, leak }
  }

  sustained() {
    const f = this.floors
    let best = 0
    for (let i = 1; i < f.length; i++) {
      const d = f[i] - f[0]
      if (d <= 0) return false
      if (d > best) best = d
      else if (best > this.noise && d < best / 2) return false
    }
    return best >= this.minGrowth
  }

  // least-squares slope over the floors' times, bytes per interval
  slope() {
    const f = this.floors
    const t = this.times
    const n = f.length
    if (n < 2) return 0
    const mx = t.reduce((a, b) => a + b, 0) / n
    const my = f.reduce((a, b) => a + b, 0) / n
    let num = 0
    let den = 0
    for (let i = 0; i < n; i++) {
      num += (t[i] - mx) * (f[i] - my)
      den += (t[i] - mx) ** 2
    }
    return den > 0 ? (num / den) * this.intervalMs : 0
  }
}

module.exports = { Trend }
