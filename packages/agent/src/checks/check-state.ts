import type { HealthStatus } from '@grapevine/core'
import type { CheckDefinition, CheckKind } from './check-definition.js'

/** What one run of a check (or one TTL report) found. */
export interface CheckResult {
  readonly status: HealthStatus
  /** Human-readable detail: the response, the error, the application's note. */
  readonly output: string
}

/** The thresholds of `CheckOptions`, both at least 1. */
export interface CheckThresholds {
  readonly successesBeforePassing: number
  readonly failuresBeforeCritical: number
}

/**
 * The state of one check. Pure data: the functions below return a new state; the runner
 * owns the timers. Times are milliseconds on the runner's monotonic clock.
 */
export interface CheckState {
  /** The status the check reports, after thresholds. */
  readonly status: HealthStatus
  /** Consecutive passing results so far (0 after any non-passing one). */
  readonly successes: number
  /** Consecutive non-passing results so far (0 after any passing one). */
  readonly failures: number
  /** Output of the latest result, even one that did not change the status. */
  readonly output: string
  /** Status of the latest raw result, before thresholds; undefined before the first. */
  readonly lastResult: HealthStatus | undefined
  /** When the latest result came in. */
  readonly lastRun: number | undefined
  /** Since when `status` has been critical without a break; undefined when it is not. */
  readonly criticalSince: number | undefined
}

export function initialCheckState(status: HealthStatus, now: number): CheckState {
  return {
    status,
    successes: 0,
    failures: 0,
    output: '',
    lastResult: undefined,
    lastRun: undefined,
    criticalSince: status === 'critical' ? now : undefined,
  }
}

function withStatus(state: CheckState, status: HealthStatus, now: number): CheckState {
  if (status === state.status) return state
  return { ...state, status, criticalSince: status === 'critical' ? now : undefined }
}

/**
 * Applies one result with Consul's hysteresis: a passing result turns the check `passing`
 * once `successesBeforePassing` passes came in a row; a warning or critical result counts as
 * a failure, and once `failuresBeforeCritical` failures came in a row the check takes the
 * latest result's status. Until then the status stays where it was.
 */
export function applyResult(
  state: CheckState,
  result: CheckResult,
  thresholds: CheckThresholds,
  now: number,
): CheckState {
  const passed = result.status === 'passing'
  const next: CheckState = {
    ...state,
    successes: passed ? state.successes + 1 : 0,
    failures: passed ? 0 : state.failures + 1,
    output: result.output,
    lastResult: result.status,
    lastRun: now,
  }
  if (passed && next.successes >= thresholds.successesBeforePassing) {
    return withStatus(next, 'passing', now)
  }
  if (!passed && next.failures >= thresholds.failuresBeforeCritical) {
    return withStatus(next, result.status, now)
  }
  return next
}

const IMMEDIATE: CheckThresholds = { successesBeforePassing: 1, failuresBeforeCritical: 1 }

/**
 * Sets the status regardless of thresholds, for a TTL that ran out: the TTL itself was the
 * grace period, and no further result would ever come to reach a threshold.
 */
export function forceResult(state: CheckState, result: CheckResult, now: number): CheckState {
  return applyResult(state, result, IMMEDIATE, now)
}

const SEVERITY: Readonly<Record<HealthStatus, number>> = { passing: 0, warning: 1, critical: 2 }

/** An instance's status: the worst of its checks'; `passing` when it has none. */
export function aggregateStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'passing'
  for (const status of statuses) {
    if (SEVERITY[status] > SEVERITY[worst]) worst = status
  }
  return worst
}

/**
 * Milliseconds until the instance must be deregistered because this check stayed critical
 * for `deregisterCriticalAfter`: 0 when due now, undefined when not critical or not configured.
 */
export function deregisterDueIn(
  state: CheckState,
  deregisterCriticalAfter: number | undefined,
  now: number,
): number | undefined {
  if (deregisterCriticalAfter === undefined || state.criticalSince === undefined) return undefined
  return Math.max(0, state.criticalSince + deregisterCriticalAfter - now)
}

/** One check of one instance, for display (`grapevine checks`, the dashboard, the HTTP API). */
export interface CheckInfo {
  readonly id: string
  readonly name: string
  readonly kind: CheckKind
  /** After thresholds: what the instance's status is made of. */
  readonly status: HealthStatus
  /** Output of the latest run or report (HTTP response start, socket error, the app's note). */
  readonly output: string
  /** Raw status of the latest run or report; undefined before the first. */
  readonly lastResult: HealthStatus | undefined
  /** Consecutive passing results (see `successesBeforePassing`). */
  readonly successes: number
  /** Consecutive non-passing results (see `failuresBeforeCritical`). */
  readonly failures: number
  /** Milliseconds since the latest run or report; null if none yet. */
  readonly lastRunMsAgo: number | null
  /** Milliseconds the check has been critical without a break; null when it is not critical. */
  readonly criticalForMs: number | null
}

/** A check's state as shown to people: durations relative to `now`. */
export function checkInfo(definition: CheckDefinition, state: CheckState, now: number): CheckInfo {
  return {
    id: definition.id,
    name: definition.name,
    kind: definition.kind,
    status: state.status,
    output: state.output,
    lastResult: state.lastResult,
    successes: state.successes,
    failures: state.failures,
    lastRunMsAgo: state.lastRun === undefined ? null : now - state.lastRun,
    criticalForMs: state.criticalSince === undefined ? null : now - state.criticalSince,
  }
}
