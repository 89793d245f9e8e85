import type { Digest } from '@grapevine/core'
import { within } from '@grapevine/core/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createReadyTracker, type ReadyTrackerInit } from '../src/ready-tracker.js'

const digest: Digest = { peerA: { gen: 1, covered: 10, floor: 0 } }

function tracker(init: Partial<ReadyTrackerInit>, state = { behind: false, subscribed: true }) {
  return createReadyTracker(
    { timeout: 10_000, idleGrace: undefined, ...init },
    { behind: () => state.behind, subscribed: () => state.subscribed },
  )
}

describe('ready tracker', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is ready at once when alone and told not to wait', async () => {
    const t = tracker({ idleGrace: 0 })
    t.start()
    await within(t.ready, 'ready', 1_000)
  })

  it('waits for every tracked peer to settle, and for the data they advertised', () => {
    const state = { behind: true, subscribed: true }
    const t = tracker({}, state)
    t.start()
    t.connected('a')
    t.connected('b')
    t.completed('a', digest)
    expect(t.isReady).toBe(false) // b not settled
    t.failed('b')
    expect(t.isReady).toBe(false) // behind what a advertised
    state.behind = false
    t.completed('a', digest)
    expect(t.isReady).toBe(true)
  })

  it('waits until synced peers subscribed to the topic', () => {
    const state = { behind: false, subscribed: false }
    const t = tracker({}, state)
    t.start()
    t.connected('a')
    t.completed('a', digest)
    expect(t.isReady).toBe(false)
    state.subscribed = true
    t.subscribed('a')
    expect(t.isReady).toBe(true)
  })

  it('tracks only the first peers', () => {
    const t = tracker({ peers: 2 })
    t.start()
    t.connected('a')
    t.connected('b')
    t.connected('c') // not tracked: never blocks readiness
    t.completed('a', digest)
    t.disconnected('b')
    expect(t.isReady).toBe(true)
  })

  it('gives up after the timeout, or when nobody connected within the grace', () => {
    vi.useFakeTimers()
    const slow = tracker({ timeout: 1_000 })
    slow.start()
    slow.connected('a')
    vi.advanceTimersByTime(999)
    expect(slow.isReady).toBe(false)
    vi.advanceTimersByTime(1)
    expect(slow.isReady).toBe(true)

    const lonely = tracker({ idleGrace: 300 })
    lonely.start()
    vi.advanceTimersByTime(300)
    expect(lonely.isReady).toBe(true)

    const found = tracker({ idleGrace: 300 })
    found.start()
    found.connected('a')
    vi.advanceTimersByTime(300)
    expect(found.isReady).toBe(false)
  })
})
