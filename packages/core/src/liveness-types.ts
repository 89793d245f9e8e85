import type { MemberState } from './agent-api.js'

/**
 * Timings of failure detection, in milliseconds. See `profiles.ts` for `lan` and `wan`.
 */
export interface LivenessTimings {
  /** Heartbeat period of every node. */
  heartbeatInterval: number
  /** Silence after which an origin is suspect (its claims still shown). */
  suspectAfter: number
  /** Silence after which an origin is dead: its claims are hidden (cause `expired`). */
  deadAfter: number
  /** Silence after which a dead or left origin's claims are dropped for good. */
  purgeAfter: number
}

/** A change of one origin's state, for the view and for logs. */
export interface LivenessTransition {
  readonly origin: string
  readonly from: MemberState | undefined
  readonly to: MemberState
}

/**
 * Per-origin failure detection on the local monotonic clock. Only direct, signed evidence
 * from the origin (a heartbeat or DELTA that advances `(gen, hbSeq)`) counts as alive.
 */
export interface Liveness {
  /** Records direct evidence from `origin`; returns a transition if its state changed. */
  heard(origin: string, gen: number, hbSeq: number): LivenessTransition | undefined
  /**
   * We hold claims of `origin` but have never heard from it directly (they were relayed by a
   * peer). Relayed state is no evidence of life, so the origin starts `suspect` with its lease
   * running from now: unless it speaks before `deadAfter`, its claims are hidden. No effect on
   * an origin we already track.
   */
  seen(origin: string, gen: number): LivenessTransition | undefined
  /** Our direct connection to `origin` closed: suspect it now, dead after a short grace. */
  disconnected(origin: string): LivenessTransition | undefined
  /** The origin said LEAVE. */
  left(origin: string, gen: number): LivenessTransition | undefined
  /**
   * Advances time: returns every transition that is due, and origins due for purge. With a
   * `tickInterval`, a gap past twice it is taken as this node's own stall, not others' silence.
   */
  tick(): { transitions: LivenessTransition[]; purge: string[] }
  state(origin: string): MemberState | undefined
  gen(origin: string): number | undefined
  lastHeard(origin: string): number | undefined
  origins(): string[]
  /** Forgets an origin (after purge). */
  forget(origin: string): void
}
