import type { Agent, HealthStatus } from '@grapevine/core'

/** A TTL report from the application, as the HTTP route and `grapevine ttl` name it. */
export type TtlReport = 'pass' | 'warn' | 'fail'
export const TTL_REPORTS: readonly TtlReport[] = ['pass', 'warn', 'fail']

export function isTtlReport(value: string): value is TtlReport {
  return (TTL_REPORTS as readonly string[]).includes(value)
}

/** One health check of a local instance, as /v1/instances shows it (the agent's `CheckInfo`). */
export interface CheckStatusView {
  readonly id: string
  readonly name?: string
  readonly kind?: string
  readonly status: HealthStatus
  /** Output of the latest run or report. */
  readonly output?: string
  readonly lastRunMsAgo?: number | null
  readonly criticalForMs?: number | null
}

/**
 * Health-check methods the networked agent adds to `Agent`. They are optional here so that the
 * HTTP API also serves agents without checks (the local agent): their routes answer 501.
 * Keeping them in one place means one edit if the agent names them differently.
 */
export interface HealthCheckMethods {
  /** Records a TTL check report (`pass` → passing, `warn` → warning, `fail` → critical). */
  ttl(instanceId: string, checkId: string, report: TtlReport, note?: string): unknown
  /** The checks of one local instance with their current status; undefined when it has none. */
  checks(instanceId: string): readonly CheckStatusView[] | undefined
}

/** What the HTTP API serves: any `Agent`, with health-check methods when it has them. */
export type ApiAgent = Agent & Partial<HealthCheckMethods> & { readonly nodeName?: string }
