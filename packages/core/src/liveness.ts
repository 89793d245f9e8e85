import type { MemberState } from './agent-api.js'
import type { Liveness, LivenessTimings, LivenessTransition } from './liveness-types.js'

export interface LivenessInit {
  /** Monotonic milliseconds. */
  now: () => number
  timings: LivenessTimings
}

interface OriginRecord {
  state: MemberState
  gen: number
  since: number
  /** Known only from relayed claims: hidden at `since + deadAfter` unless confirmed. */
  unconfirmed: boolean
}

/**
 * The registry's view of each origin, fed by membership facts. It decides nothing about
 * failures itself; it only hides origins known solely from relayed claims once `deadAfter`
 * passed without a fact, and reports dead or left origins for purge after `purgeAfter`.
 */
export function createLiveness(init: LivenessInit): Liveness {
  const { now, timings } = init
  const records = new Map<string, OriginRecord>()

  function move(
    origin: string,
    record: OriginRecord,
    to: MemberState,
  ): LivenessTransition | undefined {
    const from = record.state
    if (from === to) return undefined
    record.state = to
    record.since = now()
    return { origin, from, to }
  }

  return {
    fact(origin, state, gen) {
      const record = records.get(origin)
      if (record === undefined) {
        records.set(origin, { state, gen, since: now(), unconfirmed: false })
        return { origin, from: undefined, to: state }
      }
      if (gen < record.gen) return undefined
      record.gen = gen
      record.unconfirmed = false
      return move(origin, record, state)
    },

    seen(origin, gen) {
      if (records.has(origin)) return undefined
      records.set(origin, { state: 'suspect', gen, since: now(), unconfirmed: true })
      return { origin, from: undefined, to: 'suspect' }
    },

    tick() {
      const time = now()
      const transitions: LivenessTransition[] = []
      const purge: string[] = []
      for (const [origin, record] of records) {
        if (record.unconfirmed && time - record.since > timings.deadAfter) {
          record.unconfirmed = false
          const transition = move(origin, record, 'dead')
          if (transition !== undefined) transitions.push(transition)
        }
        // Reported on every tick until the caller forgets the origin.
        const down = record.state === 'dead' || record.state === 'left'
        if (down && time - record.since > timings.purgeAfter) purge.push(origin)
      }
      return { transitions, purge }
    },

    state: (origin) => records.get(origin)?.state,
    gen: (origin) => records.get(origin)?.gen,
    since: (origin) => records.get(origin)?.since,
    origins: () => [...records.keys()],
    forget(origin) {
      records.delete(origin)
    },
  }
}
