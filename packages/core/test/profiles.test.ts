import { describe, expect, it } from 'vitest'
import { ValidationError } from '../src/errors.js'
import { disconnectGrace } from '../src/liveness.js'
import { PROFILES, type ProfileTimings, resolveTimings } from '../src/profiles.js'

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError)
    return (err as ValidationError).field
  }
  return undefined
}

describe('profiles', () => {
  it('lan meets the product goals', () => {
    const lan = PROFILES.lan
    // kill -9: the connection closes at once; dead after the grace, well under 1.5 s.
    expect(disconnectGrace(lan)).toBeLessThanOrEqual(1_000)
    // SIGSTOP: silent, dead within 3 s even with a tick of half a heartbeat interval.
    expect(lan.deadAfter + lan.heartbeatInterval / 2).toBeLessThanOrEqual(3_000)
    expect(lan.suspectAfter).toBeGreaterThanOrEqual(2 * lan.heartbeatInterval)
  })

  it('wan is more tolerant than lan in every timing', () => {
    for (const key of Object.keys(PROFILES.lan) as (keyof ProfileTimings)[]) {
      expect(PROFILES.wan[key]).toBeGreaterThan(PROFILES.lan[key])
    }
  })

  it.each(['lan', 'wan'] as const)('%s resolves to itself without overrides', (name) => {
    expect(resolveTimings(name)).toEqual(PROFILES[name])
  })

  it('defaults to lan and applies overrides without changing the profile', () => {
    const timings = resolveTimings(undefined, { deadAfter: 4_000 })
    expect(timings).toEqual({ ...PROFILES.lan, deadAfter: 4_000 })
    expect(PROFILES.lan.deadAfter).toBe(2_500)
    expect(Object.isFrozen(PROFILES.lan)).toBe(true)
  })

  it.each<[string, Partial<ProfileTimings>, string]>([
    ['zero', { heartbeatInterval: 0 }, 'timings.heartbeatInterval'],
    ['negative', { syncInterval: -1 }, 'timings.syncInterval'],
    ['NaN', { tombstoneTtl: Number.NaN }, 'timings.tombstoneTtl'],
    ['infinite', { purgeAfter: Number.POSITIVE_INFINITY }, 'timings.purgeAfter'],
    ['a string', { deadAfter: '3000' as unknown as number }, 'timings.deadAfter'],
    ['suspect not above heartbeat', { suspectAfter: 500 }, 'timings.suspectAfter'],
    ['dead not above suspect', { deadAfter: 1_000 }, 'timings.deadAfter'],
    ['suspect above the default dead', { suspectAfter: 3_000 }, 'timings.suspectAfter'],
    ['purge below dead', { deadAfter: 10_000, purgeAfter: 5_000 }, 'timings.purgeAfter'],
    ['an unknown field', { deadafter: 1 } as Partial<ProfileTimings>, 'timings.deadafter'],
  ])('rejects %s, naming the field', (_name, overrides, field) => {
    expect(fieldOf(() => resolveTimings('lan', overrides))).toBe(field)
  })

  it('rejects an unknown profile', () => {
    expect(fieldOf(() => resolveTimings('lna' as 'lan'))).toBe('profile')
  })
})
