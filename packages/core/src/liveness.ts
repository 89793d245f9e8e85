import type { MemberState } from './agent-api.js'
import type { Liveness, LivenessTimings, LivenessTransition } from './liveness-types.js'

export interface LivenessInit {
  /** Monotonic milliseconds. */
  now: () => number
  timings: LivenessTimings
  /**
   * How often the driver calls `tick()`, in ms. When set, a gap of more than twice this
   * between ticks is taken as this node's own stall and credited to every lease (see
   * `stallCredit`). Unset (pure tests that jump the clock), no credit is given.
   */
  tickInterval?: number
}

/** Where silence alone takes an origin; `purge` means its claims may be dropped for good. */
export type SilenceVerdict = 'alive' | 'suspect' | 'dead' | 'purge'

/**
 * The verdict for `silence` ms without direct evidence. Boundaries are exclusive: an origin
 * silent for exactly `suspectAfter` is still alive.
 */
export function verdictForSilence(silence: number, timings: LivenessTimings): SilenceVerdict {
  if (silence > timings.purgeAfter) return 'purge'
  if (silence > timings.deadAfter) return 'dead'
  if (silence > timings.suspectAfter) return 'suspect'
  return 'alive'
}

/**
 * How long an origin whose direct connection closed has to speak again before it is dead:
 * `min(deadAfter, suspectAfter)`. A closed connection is strong evidence (kill -9, crash,
 * cable) but not proof: the origin's signed heartbeats may still arrive through other peers,
 * and `suspectAfter` is enough for a couple of them to do so.
 */
export function disconnectGrace(timings: LivenessTimings): number {
  return Math.min(timings.deadAfter, timings.suspectAfter)
}

/** True when `(gen, hbSeq)` advances lexicographically over `(lastGen, lastHbSeq)`. */
/**
 * How much of the time since the previous tick was this node's own stall: everything past two
 * tick intervals (one late tick is timer jitter, not a stall).
 */
export function stallCredit(sinceLastTick: number, tickInterval: number): number {
  return Math.max(0, sinceLastTick - 2 * tickInterval)
}

export function advances(gen: number, hbSeq: number, lastGen: number, lastHbSeq: number): boolean {
  return gen > lastGen || (gen === lastGen && hbSeq > lastHbSeq)
}

interface OriginRecord {
  state: MemberState
  gen: number
  hbSeq: number
  lastHeard: number
  /** Set by `disconnected`: the time the origin is dead unless heard first. */
  deadAt: number | undefined
}

/**
 * Creates a fixed-timeout failure detector. States: alive → suspect (silence > suspectAfter)
 * → dead (silence > deadAfter, or the disconnect grace ran out) → purge reported
 * (silence > purgeAfter). `left` is entered only by LEAVE and is purged like `dead`.
 * Any state returns to alive on evidence that advances `(gen, hbSeq)`; replays never do.
 */
export function createLiveness(init: LivenessInit): Liveness {
  const { now, timings } = init
  const records = new Map<string, OriginRecord>()
  let lastTick: number | undefined

  function move(
    origin: string,
    record: OriginRecord,
    to: MemberState,
  ): LivenessTransition | undefined {
    const from = record.state
    if (from === to) return undefined
    record.state = to
    return { origin, from, to }
  }

  return {
    heard(origin, gen, hbSeq) {
      const time = now()
      const record = records.get(origin)
      if (record === undefined) {
        records.set(origin, { state: 'alive', gen, hbSeq, lastHeard: time, deadAt: undefined })
        return { origin, from: undefined, to: 'alive' }
      }
      if (!advances(gen, hbSeq, record.gen, record.hbSeq)) return undefined
      // A node that left stopped that generation; a heartbeat of it arriving after the LEAVE
      // was sent before it. Only a new generation (a restart) brings it back.
      if (record.state === 'left' && gen <= record.gen) return undefined
      record.gen = gen
      record.hbSeq = hbSeq
      record.lastHeard = time
      record.deadAt = undefined
      return move(origin, record, 'alive')
    },

    seen(origin, gen) {
      if (records.has(origin)) return undefined
      // hbSeq −1: the origin's first heartbeat of this generation counts as evidence.
      records.set(origin, { state: 'suspect', gen, hbSeq: -1, lastHeard: now(), deadAt: undefined })
      return { origin, from: undefined, to: 'suspect' }
    },

    disconnected(origin) {
      const record = records.get(origin)
      if (record === undefined || record.state === 'dead' || record.state === 'left') {
        return undefined
      }
      const deadline = now() + disconnectGrace(timings)
      record.deadAt = record.deadAt === undefined ? deadline : Math.min(record.deadAt, deadline)
      return move(origin, record, 'suspect')
    },

    left(origin, gen) {
      const time = now()
      const record = records.get(origin)
      if (record === undefined) {
        records.set(origin, { state: 'left', gen, hbSeq: 0, lastHeard: time, deadAt: undefined })
        return { origin, from: undefined, to: 'left' }
      }
      // A LEAVE of an older generation is a replay from before a restart.
      if (gen < record.gen) return undefined
      if (gen > record.gen) {
        record.gen = gen
        record.hbSeq = 0
      }
      // LEAVE is signed by the origin: direct evidence, so purge counts from it.
      record.lastHeard = time
      record.deadAt = undefined
      return move(origin, record, 'left')
    },

    tick() {
      const time = now()
      const transitions: LivenessTransition[] = []
      const purge: string[] = []
      // Our own stall is not their silence: if this node could not run (a long GC, a
      // saturated CPU), heartbeats sat unread in its sockets. The stall is credited to every
      // lease, in the spirit of memberlist's Lifeguard, so a busy node does not expire live
      // peers; a truly dead one is noticed that much later.
      const stall =
        lastTick === undefined || init.tickInterval === undefined
          ? 0
          : stallCredit(time - lastTick, init.tickInterval)
      lastTick = time
      for (const [origin, record] of records) {
        if (stall > 0) {
          record.lastHeard += stall
          if (record.deadAt !== undefined) record.deadAt += stall
        }
        const verdict = verdictForSilence(time - record.lastHeard, timings)
        if (record.state === 'alive' || record.state === 'suspect') {
          const dead =
            verdict === 'dead' ||
            verdict === 'purge' ||
            (record.deadAt !== undefined && time >= record.deadAt)
          const to: MemberState = dead ? 'dead' : verdict === 'suspect' ? 'suspect' : record.state
          const transition = move(origin, record, to)
          if (transition !== undefined) transitions.push(transition)
        }
        // Reported on every tick until the caller forgets the origin.
        if (verdict === 'purge' && (record.state === 'dead' || record.state === 'left')) {
          purge.push(origin)
        }
      }
      return { transitions, purge }
    },

    state: (origin) => records.get(origin)?.state,
    gen: (origin) => records.get(origin)?.gen,
    lastHeard: (origin) => records.get(origin)?.lastHeard,
    origins: () => [...records.keys()],
    forget(origin) {
      records.delete(origin)
    },
  }
}
