/**
 * Lifeguard's dynamic suspicion timeout (memberlist's `suspicion.go`). A suspicion starts
 * with the long timeout `max`; each independent confirmation (another member whose own probe
 * failed) shrinks it on a log scale towards `min`, reached at `k` confirmations:
 *
 *     timeout(c) = max(min, max − (max − min) · log(c + 1) / log(k + 1))
 *
 * So a node that one slow prober suspects has the whole `max` to refute, while a node that
 * several members found dead is declared dead after `min`. Deadlines, not timers: the owner
 * compares `deadline` with its clock.
 */

/**
 * The minimum suspicion timeout for a cluster of `members`: `mult · max(1, log10(n)) ·
 * probeInterval` (memberlist's `suspicionTimeout`). Dissemination takes O(log n) periods, so
 * the timeout grows with log n to leave the suspect time to hear of it and refute.
 */
export function suspicionTimeout(mult: number, members: number, probeInterval: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, members)))
  return mult * nodeScale * probeInterval
}

/** The whole timeout after `confirmations` of the `k` expected, between `min` and `max`. */
export function suspicionTimeoutAfter(
  confirmations: number,
  k: number,
  min: number,
  max: number,
): number {
  if (k < 1) return min
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1)
  return Math.max(min, Math.floor(max - fraction * (max - min)))
}

export class Suspicion {
  /** Accusers other than the first (independent confirmations). */
  private readonly confirmations = new Set<string>()
  private currentDeadline: number

  constructor(
    readonly firstAccuser: string,
    readonly started: number,
    /** Expected confirmations; 0 when the cluster is too small to give any (timeout = min). */
    readonly k: number,
    readonly min: number,
    readonly max: number,
  ) {
    this.currentDeadline = started + (k < 1 ? min : max)
  }

  get deadline(): number {
    return this.currentDeadline
  }

  get confirmed(): number {
    return this.confirmations.size
  }

  /** Counts `accuser` once; true if it was new (and so worth passing on). */
  confirm(accuser: string): boolean {
    if (this.confirmations.size >= this.k) return false
    if (accuser === this.firstAccuser || this.confirmations.has(accuser)) return false
    this.confirmations.add(accuser)
    const timeout = suspicionTimeoutAfter(this.confirmations.size, this.k, this.min, this.max)
    this.currentDeadline = this.started + timeout
    return true
  }

  /** Moves the deadline (this node stalled and could not read refutations in time). */
  postpone(until: number): void {
    this.currentDeadline = Math.max(this.currentDeadline, until)
  }
}
