/**
 * A dot names one write: the origin node, the origin's generation (one per process start)
 * and the origin's sequence number within that generation. Dots of one origin are totally
 * ordered, first by generation, then by sequence.
 */
export interface Dot {
  readonly origin: string
  readonly gen: number
  readonly seq: number
}

/** Negative when `a` was written before `b` by the same origin; only meaningful for one origin. */
export function compareDots(a: Dot, b: Dot): number {
  return a.gen !== b.gen ? a.gen - b.gen : a.seq - b.seq
}
