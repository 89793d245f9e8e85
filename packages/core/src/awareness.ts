/**
 * Lifeguard's local health ("awareness", memberlist's `awareness.go`): a score in
 * `[0, max - 1]` that rises when this node shows signs of being the slow one (its probes go
 * unanswered while the helpers it asked answer with NACKs or not at all, it had to refute a
 * suspicion of itself, its timers fire late) and falls with every probe answered in time.
 * Every timeout this node applies is multiplied by `score + 1`, so a starved node waits longer
 * before it accuses anyone instead of spreading false suspicions.
 */
export class Awareness {
  private value = 0

  /** @param max the multiplier's ceiling (memberlist's `AwarenessMaxMultiplier`, 8) */
  constructor(private readonly max: number) {}

  get score(): number {
    return this.value
  }

  /** Adds `delta` (negative for good news), clamped to `[0, max - 1]`. */
  apply(delta: number): void {
    this.value = Math.min(this.max - 1, Math.max(0, this.value + delta))
  }

  /** `timeout × (score + 1)`. */
  scale(timeout: number): number {
    return timeout * (this.value + 1)
  }
}
