import { describe, expect, it } from 'vitest'
import {
  advances,
  createLiveness,
  disconnectGrace,
  type SilenceVerdict,
  stallCredit,
  verdictForSilence,
} from '../src/liveness.js'
import type { Liveness, LivenessTimings } from '../src/liveness-types.js'
import { manualClock } from './replica-fixtures.js'

const T: LivenessTimings = {
  heartbeatInterval: 500,
  suspectAfter: 1_000,
  deadAfter: 2_500,
  purgeAfter: 60_000,
}

describe('timeout math', () => {
  it.each<[number, SilenceVerdict]>([
    [0, 'alive'],
    [999, 'alive'],
    [1_000, 'alive'],
    [1_001, 'suspect'],
    [2_500, 'suspect'],
    [2_501, 'dead'],
    [60_000, 'dead'],
    [60_001, 'purge'],
  ])('silence %i ms → %s', (silence, verdict) => {
    expect(verdictForSilence(silence, T)).toBe(verdict)
  })

  it.each<[Partial<LivenessTimings>, number]>([
    [{}, 1_000],
    [{ suspectAfter: 1_500 }, 1_500],
    [{ suspectAfter: 3_000, deadAfter: 2_000 }, 2_000],
  ])('disconnect grace with %j is %i ms', (overrides, grace) => {
    expect(disconnectGrace({ ...T, ...overrides })).toBe(grace)
  })

  it.each<[number, number, number, number, boolean]>([
    [1, 2, 1, 1, true],
    [1, 1, 1, 1, false],
    [1, 0, 1, 1, false],
    [2, 0, 1, 9, true],
    [1, 9, 2, 0, false],
  ])('(%i, %i) over (%i, %i) advances: %s', (gen, hb, lastGen, lastHb, expected) => {
    expect(advances(gen, hb, lastGen, lastHb)).toBe(expected)
  })
})

function setup(): { liveness: Liveness; clock: ReturnType<typeof manualClock> } {
  const clock = manualClock(10_000)
  return { liveness: createLiveness({ now: clock.now, timings: T }), clock }
}

describe('liveness', () => {
  it('first evidence makes an origin alive', () => {
    const { liveness } = setup()
    expect(liveness.heard('a', 1, 1)).toEqual({ origin: 'a', from: undefined, to: 'alive' })
    expect(liveness.state('a')).toBe('alive')
    expect(liveness.gen('a')).toBe(1)
    expect(liveness.lastHeard('a')).toBe(10_000)
    expect(liveness.origins()).toEqual(['a'])
    expect(liveness.state('b')).toBeUndefined()
  })

  it('silence: alive → suspect → dead → purge reported until forgotten', () => {
    const { liveness, clock } = setup()
    liveness.heard('a', 1, 1)
    clock.advance(1_000)
    expect(liveness.tick().transitions).toEqual([])
    clock.advance(1)
    expect(liveness.tick().transitions).toEqual([{ origin: 'a', from: 'alive', to: 'suspect' }])
    clock.advance(1_500)
    expect(liveness.tick()).toEqual({
      transitions: [{ origin: 'a', from: 'suspect', to: 'dead' }],
      purge: [],
    })
    clock.advance(60_000)
    expect(liveness.tick()).toEqual({ transitions: [], purge: ['a'] })
    expect(liveness.tick().purge).toEqual(['a'])
    liveness.forget('a')
    expect(liveness.tick().purge).toEqual([])
    expect(liveness.state('a')).toBeUndefined()
  })

  it('does not count its own stall as peers’ silence, when it knows its tick interval', () => {
    const clock = manualClock()
    const liveness = createLiveness({ now: clock.now, timings: T, tickInterval: 250 })
    liveness.heard('a', 1, 1)
    liveness.tick()
    // This node could not run for 5 s: a's heartbeats sat unread; its lease is extended.
    clock.advance(5_000)
    expect(liveness.tick().transitions).toEqual([])
    expect(liveness.state('a')).toBe('alive')
    // Regular ticks and real silence still expire it.
    for (let t = 0; t < 2_600; t += 250) {
      clock.advance(250)
      liveness.tick()
    }
    expect(liveness.state('a')).toBe('dead')
    expect(stallCredit(400, 250)).toBe(0)
    expect(stallCredit(1_500, 250)).toBe(1_000)
  })

  it('a late tick goes straight from alive to dead', () => {
    const { liveness, clock } = setup()
    liveness.heard('a', 1, 1)
    clock.advance(5_000)
    expect(liveness.tick().transitions).toEqual([{ origin: 'a', from: 'alive', to: 'dead' }])
  })

  it('only evidence that advances (gen, hbSeq) counts: replays do not revive', () => {
    const { liveness, clock } = setup()
    liveness.heard('a', 1, 5)
    clock.advance(3_000)
    liveness.tick()
    expect(liveness.state('a')).toBe('dead')
    expect(liveness.heard('a', 1, 5)).toBeUndefined()
    expect(liveness.heard('a', 1, 4)).toBeUndefined()
    expect(liveness.lastHeard('a')).toBe(10_000)
    expect(liveness.state('a')).toBe('dead')
    expect(liveness.heard('a', 1, 6)).toEqual({ origin: 'a', from: 'dead', to: 'alive' })
    expect(liveness.lastHeard('a')).toBe(13_000)
  })

  it('a newer generation resets hbSeq and revives', () => {
    const { liveness, clock } = setup()
    liveness.heard('a', 1, 50)
    clock.advance(3_000)
    liveness.tick()
    expect(liveness.heard('a', 2, 1)).toEqual({ origin: 'a', from: 'dead', to: 'alive' })
    expect(liveness.gen('a')).toBe(2)
    // hbSeq 2 of the new generation advances although it is below the old generation's 50.
    clock.advance(10)
    liveness.heard('a', 2, 2)
    expect(liveness.lastHeard('a')).toBe(13_010)
    // The old generation is over.
    expect(liveness.heard('a', 1, 99)).toBeUndefined()
  })

  it('a closed connection makes an origin suspect at once and dead after the grace', () => {
    const { liveness, clock } = setup()
    liveness.heard('a', 1, 1)
    clock.advance(100)
    expect(liveness.disconnected('a')).toEqual({ origin: 'a', from: 'alive', to: 'suspect' })
    clock.advance(disconnectGrace(T) - 1)
    expect(liveness.tick().transitions).toEqual([])
    clock.advance(1)
    expect(liveness.tick().transitions).toEqual([{ origin: 'a', from: 'suspect', to: 'dead' }])
  })

  it('evidence within the grace cancels the disconnect deadline', () => {
    const { liveness, clock } = setup()
    liveness.heard('a', 1, 1)
    liveness.disconnected('a')
    clock.advance(500)
    expect(liveness.heard('a', 1, 2)).toEqual({ origin: 'a', from: 'suspect', to: 'alive' })
    clock.advance(1_000)
    expect(liveness.tick().transitions).toEqual([])
    expect(liveness.state('a')).toBe('alive')
  })

  it('a disconnect never postpones death from silence', () => {
    const { liveness, clock } = setup()
    liveness.heard('a', 1, 1)
    clock.advance(2_000)
    liveness.disconnected('a')
    clock.advance(501)
    expect(liveness.tick().transitions).toEqual([{ origin: 'a', from: 'suspect', to: 'dead' }])
  })

  it('ignores disconnects of unknown, dead or left origins', () => {
    const { liveness, clock } = setup()
    expect(liveness.disconnected('x')).toBeUndefined()
    liveness.heard('a', 1, 1)
    liveness.left('a', 1)
    expect(liveness.disconnected('a')).toBeUndefined()
    liveness.heard('b', 1, 1)
    clock.advance(3_000)
    liveness.tick()
    expect(liveness.disconnected('b')).toBeUndefined()
    expect(liveness.state('b')).toBe('dead')
  })

  it('LEAVE: left until purge, revived only by a new generation, older generations ignored', () => {
    const { liveness, clock } = setup()
    liveness.heard('a', 2, 7)
    expect(liveness.left('a', 1)).toBeUndefined()
    expect(liveness.left('a', 2)).toEqual({ origin: 'a', from: 'alive', to: 'left' })
    clock.advance(5_000)
    expect(liveness.tick()).toEqual({ transitions: [], purge: [] })
    expect(liveness.state('a')).toBe('left')
    expect(liveness.heard('a', 2, 7)).toBeUndefined()
    // A heartbeat of the same generation that arrives after LEAVE was sent before it.
    expect(liveness.heard('a', 2, 8)).toBeUndefined()
    expect(liveness.state('a')).toBe('left')
    clock.advance(60_001)
    expect(liveness.tick().purge).toEqual(['a'])
  })

  it('an origin known only from relayed claims starts suspect, with its lease running', () => {
    const { liveness, clock } = setup()
    expect(liveness.seen('r', 4)).toEqual({ origin: 'r', from: undefined, to: 'suspect' })
    expect(liveness.seen('r', 4)).toBeUndefined()
    clock.advance(2_600)
    expect(liveness.tick().transitions).toEqual([{ origin: 'r', from: 'suspect', to: 'dead' }])
    // Its own first heartbeat of that generation is evidence.
    expect(liveness.heard('r', 4, 0)).toEqual({ origin: 'r', from: 'dead', to: 'alive' })
    liveness.heard('a', 1, 1)
    expect(liveness.seen('a', 1)).toBeUndefined()
    expect(liveness.state('a')).toBe('alive')
  })

  it('a LEAVE from an unknown origin records it as left', () => {
    const { liveness } = setup()
    expect(liveness.left('a', 3)).toEqual({ origin: 'a', from: undefined, to: 'left' })
    expect(liveness.gen('a')).toBe(3)
    expect(liveness.heard('a', 4, 1)).toEqual({ origin: 'a', from: 'left', to: 'alive' })
  })
})
