import type { MemberState } from './agent-api.js'

/**
 * What the registry itself times, in milliseconds. Failure detection is membership's job
 * (SWIM, `swim.ts`); the registry only learns facts from it, and keeps two rules of its own.
 */
export interface LivenessTimings {
  /**
   * An origin whose claims reached us relayed (by sync), but that membership has never
   * confirmed alive, is hidden after this: relayed state is no evidence of life.
   */
  deadAfter: number
  /** A dead or left origin's claims are dropped for good this long after it went down. */
  purgeAfter: number
}

/** A change of one origin's state, for the view and for logs. */
export interface LivenessTransition {
  readonly origin: string
  readonly from: MemberState | undefined
  readonly to: MemberState
}

/**
 * Per-origin state as membership reports it, on the local monotonic clock. Facts of an older
 * generation than the one known are ignored (a restart supersedes everything before it).
 */
export interface Liveness {
  /** Membership says `origin` is in `state` at generation `gen`. */
  fact(origin: string, state: MemberState, gen: number): LivenessTransition | undefined
  /**
   * We hold claims of `origin` but membership never told us of it. The origin starts
   * `suspect`, hidden after `deadAfter` unless a fact confirms it first. No effect on an
   * origin we already track.
   */
  seen(origin: string, gen: number): LivenessTransition | undefined
  /** Transitions that are due (unconfirmed origins expiring) and origins due for purge. */
  tick(): { transitions: LivenessTransition[]; purge: string[] }
  state(origin: string): MemberState | undefined
  gen(origin: string): number | undefined
  /** When the origin entered its state (local clock). */
  since(origin: string): number | undefined
  origins(): string[]
  /** Forgets an origin (after purge). */
  forget(origin: string): void
}
