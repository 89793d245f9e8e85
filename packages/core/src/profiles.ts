import { ValidationError } from './errors.js'
import type { LivenessTimings } from './liveness-types.js'
import type { SwimTimings } from './membership-types.js'
import { SWIM_PROFILES } from './swim-profiles.js'

/**
 * Every timing of an agent, in milliseconds (and the membership protocol's few counts and
 * multipliers): membership (SWIM, see `swim-profiles.ts`), the registry's own rules,
 * anti-entropy and GC.
 */
export interface ProfileTimings extends SwimTimings, LivenessTimings {
  /**
   * Period of anti-entropy: a SYN with one random peer (jittered). It bounds how long a lost
   * DELTA stays lost when no later DELTA reveals the hole sooner. Cost per round: one digest
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
 * Product goals: a killed process is gone everywhere within 1 s, a silent one (SIGSTOP,
 * frozen VM, pulled cable) within 3 s; see `swim-profiles.ts` for how membership gets there.
 */
const LAN: Readonly<ProfileTimings> = Object.freeze({
  ...SWIM_PROFILES.lan,
  /**
   * 2.5 s: claims relayed to us for an origin membership never confirmed (it died before we
   * joined, or its ALIVE is still on its way) are hidden after this.
   */
  deadAfter: 2_500,
  /**
   * 5 min: a dead node's claims stay (hidden) this long, so a node back from a pause or a
   * short partition reappears at once without a resync; after that its memory is reclaimed.
   */
  purgeAfter: 5 * 60_000,
  /**
   * 30 s (memberlist's push-pull period). It is a backstop: the digest tags on probes
   * start a sync within about a second whenever two members that probe each other differ
   * (a lost DELTA), and a healed partition or a member back from dead is found by the
   * reconnect ping (`reconnectInterval`), refutes, and is then probed with tags again. Each
   * round opens a stream on both ends, which at 5 s cost an idle daemon ~0.4% of a core.
   */
  syncInterval: 30_000,
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
  ...SWIM_PROFILES.wan,
  /** 30 s: hide a relayed-only origin only when it is surely not coming. */
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
  'probeInterval',
  'probeTimeout',
  'indirectChecks',
  'suspicionMult',
  'suspicionMaxMult',
  'retransmitMult',
  'awarenessMax',
  'pushPullInterval',
  'reconnectInterval',
  'deadAfter',
  'purgeAfter',
  'syncInterval',
  'tombstoneTtl',
] as const satisfies readonly (keyof ProfileTimings)[]

/**
 * A profile with caller overrides, checked: every value a positive finite number (of ms for
 * durations), `probeTimeout < probeInterval` (a probe's direct and indirect phases fit in
 * its period) and `deadAfter < purgeAfter`. Throws `ValidationError`
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
  const orders: readonly [keyof ProfileTimings, keyof ProfileTimings][] = [
    ['probeTimeout', 'probeInterval'],
    ['deadAfter', 'purgeAfter'],
  ]
  for (const [lower, field] of orders) {
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
