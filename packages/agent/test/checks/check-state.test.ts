import type { HealthStatus } from '@grapevine/core'
import { describe, expect, it } from 'vitest'
import {
  aggregateStatus,
  applyResult,
  type CheckState,
  deregisterDueIn,
  forceResult,
  initialCheckState,
} from '../../src/checks/index.js'

const P: HealthStatus = 'passing'
const W: HealthStatus = 'warning'
const C: HealthStatus = 'critical'

/** Feeds results one per millisecond and returns the status after each. */
function statuses(
  initial: HealthStatus,
  successesBeforePassing: number,
  failuresBeforeCritical: number,
  results: HealthStatus[],
): HealthStatus[] {
  let state = initialCheckState(initial, 0)
  return results.map((status, i) => {
    state = applyResult(
      state,
      { status, output: `run ${i}` },
      { successesBeforePassing, failuresBeforeCritical },
      i + 1,
    )
    return state.status
  })
}

describe('check state machine', () => {
  it.each([
    // [case, initial, successes, failures, results, expected statuses]
    ['first pass turns a new check passing', C, 1, 1, [P], [P]],
    ['every result counts with thresholds of 1', C, 1, 1, [P, C, P, W, P], [P, C, P, W, P]],
    ['needs 3 passes in a row', C, 3, 1, [P, P, P, P], [C, C, P, P]],
    ['a failure restarts the pass count', C, 3, 1, [P, P, C, P, P, P], [C, C, C, C, C, P]],
    ['needs 3 failures in a row', P, 1, 3, [C, C, C], [P, P, C]],
    [
      'a pass restarts the failure count (no flapping)',
      P,
      1,
      3,
      [C, C, P, C, C, P],
      [P, P, P, P, P, P],
    ],
    ['warning counts as a failure', P, 1, 2, [W, W, P], [P, W, P]],
    ['takes the latest failure status', P, 1, 2, [W, C, C, W], [P, C, C, W]],
    ['initial passing holds until failures', P, 2, 2, [C, P, C, C], [P, P, P, C]],
    ['initial warning', W, 1, 1, [P], [P]],
    ['failure below threshold keeps initial critical', C, 2, 2, [W, P, P], [C, C, P]],
  ])('%s', (_case, initial, successes, failures, results, expected) => {
    expect(statuses(initial, successes, failures, results)).toEqual(expected)
  })

  it('keeps the latest output, raw result and time even when the status holds', () => {
    let state = initialCheckState('passing', 0)
    state = applyResult(
      state,
      { status: C, output: 'boom' },
      { successesBeforePassing: 1, failuresBeforeCritical: 3 },
      7,
    )
    expect(state).toMatchObject({
      status: 'passing',
      output: 'boom',
      lastResult: 'critical',
      lastRun: 7,
      failures: 1,
      successes: 0,
    })
  })

  it('tracks since when the check is critical, across a spell', () => {
    const thresholds = { successesBeforePassing: 1, failuresBeforeCritical: 1 }
    let state: CheckState = initialCheckState('critical', 5)
    expect(state.criticalSince).toBe(5)
    state = applyResult(state, { status: C, output: '' }, thresholds, 10)
    expect(state.criticalSince).toBe(5)
    state = applyResult(state, { status: P, output: '' }, thresholds, 20)
    expect(state.criticalSince).toBeUndefined()
    state = applyResult(state, { status: W, output: '' }, thresholds, 30)
    expect(state.criticalSince).toBeUndefined()
    state = applyResult(state, { status: C, output: '' }, thresholds, 40)
    expect(state.criticalSince).toBe(40)
    expect(initialCheckState('passing', 0).criticalSince).toBeUndefined()
  })

  it('forceResult ignores thresholds (TTL expiry)', () => {
    const state = forceResult(initialCheckState('passing', 0), { status: C, output: 'expired' }, 9)
    expect(state).toMatchObject({
      status: 'critical',
      criticalSince: 9,
      output: 'expired',
      failures: 1,
    })
  })

  it.each([
    [[], P],
    [[P], P],
    [[P, W], W],
    [[W, P, C], C],
    [[C, W], C],
    [[W, W], W],
  ])('aggregate of %j is %s (the worst)', (input, expected) => {
    expect(aggregateStatus(input as HealthStatus[])).toBe(expected)
  })

  it.each([
    ['not configured', C, undefined, 50, undefined],
    ['not critical', P, 100, 50, undefined],
    ['critical since 10, after 100, now 50', C, 100, 50, 60],
    ['exactly due', C, 100, 110, 0],
    ['overdue', C, 100, 500, 0],
  ])('deregisterDueIn: %s', (_case, status, after, now, expected) => {
    const state = initialCheckState(status as HealthStatus, 10)
    expect(deregisterDueIn(state, after as number | undefined, now as number)).toBe(expected)
  })
})
