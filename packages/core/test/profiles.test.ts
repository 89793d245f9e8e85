import { describe, expect, it } from 'vitest'
import { ValidationError } from '../src/errors.js'
import { PROFILES, type ProfileTimings, resolveTimings } from '../src/profiles.js'
import { suspicionTimeout } from '../src/suspicion.js'

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
    // kill -9: every peer's probe fails at once, so the suspicion is confirmed and lasts the
    // minimum; at 30 members that leaves room under the 1 s goal.
    expect(suspicionTimeout(lan.suspicionMult, 30, lan.probeInterval)).toBeLessThanOrEqual(800)
    // SIGSTOP: probed within a period or two, a failed probe (direct and indirect), then a
    // suspicion that a few confirmations bring to its minimum: within 3 s at 50 members.
    const probe = 2 * lan.probeInterval + 2 * lan.probeTimeout
    expect(probe + 2 * suspicionTimeout(lan.suspicionMult, 50, lan.probeInterval)).toBeLessThan(
      3_000,
    )
    // A probe's direct and indirect phases fit in its period (well, two timeouts of it).
    expect(lan.probeTimeout).toBeLessThan(lan.probeInterval)
  })

  it('wan is at least as tolerant as lan in every timing, more in every duration', () => {
    for (const key of Object.keys(PROFILES.lan) as (keyof ProfileTimings)[]) {
      expect(PROFILES.wan[key]).toBeGreaterThanOrEqual(PROFILES.lan[key])
    }
    for (const key of ['probeInterval', 'probeTimeout', 'deadAfter', 'purgeAfter'] as const) {
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
    ['zero', { probeInterval: 0 }, 'timings.probeInterval'],
    ['negative', { syncInterval: -1 }, 'timings.syncInterval'],
    ['NaN', { tombstoneTtl: Number.NaN }, 'timings.tombstoneTtl'],
    ['infinite', { purgeAfter: Number.POSITIVE_INFINITY }, 'timings.purgeAfter'],
    ['a string', { deadAfter: '3000' as unknown as number }, 'timings.deadAfter'],
    ['a probe timeout not below the period', { probeTimeout: 500 }, 'timings.probeTimeout'],
    ['a period not above the probe timeout', { probeInterval: 100 }, 'timings.probeInterval'],
    ['dead above the default purge', { deadAfter: 600_000 }, 'timings.deadAfter'],
    ['purge below dead', { deadAfter: 10_000, purgeAfter: 5_000 }, 'timings.purgeAfter'],
    ['an unknown field', { deadafter: 1 } as Partial<ProfileTimings>, 'timings.deadafter'],
  ])('rejects %s, naming the field', (_name, overrides, field) => {
    expect(fieldOf(() => resolveTimings('lan', overrides))).toBe(field)
  })

  it('rejects an unknown profile', () => {
    expect(fieldOf(() => resolveTimings('lna' as 'lan'))).toBe('profile')
  })
})
