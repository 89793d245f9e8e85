import { describe, expect, it } from 'vitest'
import { createLiveness } from '../src/liveness.js'
import type { LivenessTimings } from '../src/liveness-types.js'
import { manualClock } from './replica-fixtures.js'

const T: LivenessTimings = { deadAfter: 2_500, purgeAfter: 60_000 }

function setup() {
  const clock = manualClock()
  return { clock, liveness: createLiveness({ now: clock.now, timings: T }) }
}

describe('liveness (membership facts)', () => {
  it('records facts and reports each change once', () => {
    const { liveness } = setup()
    expect(liveness.fact('B', 'alive', 1)).toEqual({ origin: 'B', from: undefined, to: 'alive' })
    expect(liveness.fact('B', 'alive', 1)).toBeUndefined()
    expect(liveness.fact('B', 'suspect', 1)).toEqual({ origin: 'B', from: 'alive', to: 'suspect' })
    expect(liveness.fact('B', 'dead', 1)).toEqual({ origin: 'B', from: 'suspect', to: 'dead' })
    expect(liveness.state('B')).toBe('dead')
  })

  it('ignores facts of an older generation; a newer one replaces', () => {
    const { liveness } = setup()
    liveness.fact('B', 'alive', 2)
    expect(liveness.fact('B', 'dead', 1)).toBeUndefined()
    expect(liveness.fact('B', 'left', 3)).toEqual({ origin: 'B', from: 'alive', to: 'left' })
    expect(liveness.gen('B')).toBe(3)
  })

  it('hides an origin seen only in relayed claims after deadAfter, unless confirmed', () => {
    const { clock, liveness } = setup()
    expect(liveness.seen('B', 1)).toEqual({ origin: 'B', from: undefined, to: 'suspect' })
    expect(liveness.seen('C', 1)).toMatchObject({ to: 'suspect' })
    liveness.fact('C', 'alive', 1)
    clock.advance(T.deadAfter)
    expect(liveness.tick().transitions).toEqual([])
    clock.advance(1)
    expect(liveness.tick().transitions).toEqual([{ origin: 'B', from: 'suspect', to: 'dead' }])
    expect(liveness.state('C')).toBe('alive')
    expect(liveness.seen('C', 1)).toBeUndefined()
  })

  it('reports dead and left origins for purge purgeAfter after they went down', () => {
    const { clock, liveness } = setup()
    liveness.fact('B', 'alive', 1)
    liveness.fact('D', 'alive', 1)
    clock.advance(10_000)
    liveness.fact('B', 'dead', 1)
    liveness.fact('D', 'left', 1)
    clock.advance(T.purgeAfter)
    expect(liveness.tick().purge).toEqual([])
    clock.advance(1)
    expect(liveness.tick().purge).toEqual(['B', 'D'])
    liveness.forget('B')
    expect(liveness.origins()).toEqual(['D'])
  })
})
