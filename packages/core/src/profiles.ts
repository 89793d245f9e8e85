import { ValidationError } from './errors.js'
import type { LivenessTimings } from './liveness-types.js'

/** Every timing of an agent, in milliseconds: liveness plus anti-entropy and GC. */
export interface ProfileTimings extends LivenessTimings {
  /**
   * Period of anti-entropy: a SYN with one random peer (jittered). It bounds how long a lost
   * DELTA stays lost when no HEARTBEAT reveals it sooner. Cost per round: one digest
   * (~50 bytes per origin) and whatever the peer lacks.
   */
  syncInterval: number
  /**
   * How long a covered tombstone is kept (local receive time) before GC drops it and raises
   * the origin's floor. Correctness does not depend on it (a peer below our floor gets a full
   * snapshot instead of a delta); it trades tombstone memory against full-snapshot bytes for
   * peers that were away longer than this.
   */
  tombstoneTtl: number
}

export type ProfileName = 'lan' | 'wan'

/**
 * `lan`, the default: one switch, sub-millisecond RTT, no loss worth speaking of.
 * Product goals: a killed process (its TCP connection resets at once) is hidden in well under
 * 1.5 s; a silent one (SIGSTOP, frozen VM, pulled cable) within 3 s.
 */
const LAN: Readonly<ProfileTimings> = Object.freeze({
  /**
   * 500 ms: the resolution of silence detection. A HEARTBEAT is ~100 bytes, so 2/s per node is
   * negligible on a LAN even for hundreds of nodes.
   */
  heartbeatInterval: 500,
  /**
   * 1 s, two missed heartbeats. Suspicion hides nothing (only `members()` shows it), so it may
   * be eager. It is also the grace after a closed connection (`disconnectGrace`): a killed
   * node is dead ~1 s after its connection drops unless its signed heartbeats still arrive
   * through other peers — well under the 1.5 s goal even with a 250 ms tick.
   */
  suspectAfter: 1_000,
  /**
   * 2.5 s, five missed heartbeats: a silent node is hidden within 2.5 s plus one tick, inside
   * the 3 s goal. Five in a row is far beyond a GC pause (~100 ms) or a busy event loop, so a
   * live node is not expired by accident.
   */
  deadAfter: 2_500,
  /**
   * 5 min: a dead node's claims stay (hidden) this long, so a node back from a pause or a
   * short partition reappears at once without a resync; after that its memory is reclaimed.
   */
  purgeAfter: 5 * 60_000,
  /** 5 s: a lost DELTA is repaired within one round; HEARTBEAT-triggered pulls are faster still. */
  syncInterval: 5_000,
  /**
   * 60 s, twelve sync rounds: every connected peer has the tombstone long before it is
   * collected, so full snapshots are only for peers that were away for over a minute.
   */
  tombstoneTtl: 60_000,
})

/**
 * `wan`: links across regions or flaky networks, with loss and RTTs in the hundreds of ms.
 * Overrides what differs from `lan`; each value is tolerant by roughly the same ratio.
 */
const WAN: Readonly<ProfileTimings> = Object.freeze({
  ...LAN,
  /** 2 s: heartbeats cross expensive links; 4x fewer than LAN. */
  heartbeatInterval: 2_000,
  /** 10 s, five missed heartbeats: lossy links drop a few in a row routinely. */
  suspectAfter: 10_000,
  /** 30 s, fifteen missed heartbeats: hide a node only when it is surely gone. */
  deadAfter: 30_000,
  /** 30 min: partitions between regions can last; rejoining without a resync is worth it. */
  purgeAfter: 30 * 60_000,
  /** 30 s: anti-entropy traffic crosses the WAN; pubsub carries the fast path. */
  syncInterval: 30_000,
  /** 10 min, twenty sync rounds. */
  tombstoneTtl: 10 * 60_000,
})

export const PROFILES: Readonly<Record<ProfileName, Readonly<ProfileTimings>>> = Object.freeze({
  lan: LAN,
  wan: WAN,
})

/** Every field of `ProfileTimings`, in the order errors list them. */
export const PROFILE_TIMING_KEYS = [
  'heartbeatInterval',
  'suspectAfter',
  'deadAfter',
  'purgeAfter',
  'syncInterval',
  'tombstoneTtl',
] as const satisfies readonly (keyof ProfileTimings)[]

/**
 * A profile with caller overrides, checked: every value a positive finite number of ms, and
 * `heartbeatInterval < suspectAfter < deadAfter < purgeAfter` (otherwise nodes would be
 * suspected between two heartbeats, or purged before being dead). Throws `ValidationError`
 * naming the offending field (`timings.<name>`) or `profile`.
 */
export function resolveTimings(
  profile: ProfileName = 'lan',
  overrides: Partial<ProfileTimings> = {},
): ProfileTimings {
  if (!Object.hasOwn(PROFILES, profile)) {
    throw new ValidationError('profile', `must be one of ${Object.keys(PROFILES).join(', ')}`)
  }
  for (const key of Object.keys(overrides)) {
    if (!(PROFILE_TIMING_KEYS as readonly string[]).includes(key)) {
      throw new ValidationError(
        `timings.${key}`,
        `is not a timing (known: ${PROFILE_TIMING_KEYS.join(', ')})`,
      )
    }
  }
  const timings: ProfileTimings = { ...PROFILES[profile] }
  for (const key of PROFILE_TIMING_KEYS) {
    const value: unknown = overrides[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ValidationError(`timings.${key}`, 'must be a positive number of milliseconds')
    }
    timings[key] = value
  }
  const order: readonly (keyof LivenessTimings)[] = [
    'heartbeatInterval',
    'suspectAfter',
    'deadAfter',
    'purgeAfter',
  ]
  for (let i = 1; i < order.length; i++) {
    const lower = order[i - 1]!
    const field = order[i]!
    if (timings[field] <= timings[lower]) {
      // Blame the value the caller set: a default is only wrong next to an override.
      const culprit = overrides[field] === undefined ? lower : field
      const other = culprit === field ? lower : field
      throw new ValidationError(
        `timings.${culprit}`,
        `must be ${culprit === field ? 'greater' : 'less'} than ${other} (${timings[other]} ms), got ${timings[culprit]} ms`,
      )
    }
  }
  return timings
}
