/**
 * Health checks that an agent runs for its own instances: HTTP (2xx passing, 429 warning,
 * else critical), TCP connect, and TTL (the application reports pass / warn / fail before its
 * TTL runs out). Consecutive-result thresholds keep statuses from flapping, and
 * `deregisterCriticalAfter` removes instances that stay critical. Definitions are validated
 * at register time by `validateChecks`; `createCheckRunner` runs them and reports each change
 * of an instance's aggregate status, which the agent replicates as a claim update.
 */
export type {
  CheckDefinition,
  CheckDefinitionInput,
  CheckKind,
  CheckOptions,
  CheckOptionsInput,
  HttpCheckDefinition,
  HttpCheckInput,
  ProbedCheckDefinition,
  TcpCheckDefinition,
  TcpCheckInput,
  TtlCheckDefinition,
  TtlCheckInput,
} from './check-definition.js'
export { CHECK_DEFAULTS, CHECK_KINDS, CHECK_LIMITS, MAX_DURATION_MS } from './check-definition.js'
export { CheckNotFoundError, NotTtlCheckError } from './check-errors.js'
export type { Probe } from './check-probe.js'
export { httpStatusToHealth, probeHttp, probeTcp, runProbe } from './check-probe.js'
export { createCheckRunner } from './check-runner.js'
export type {
  CheckRunner,
  CheckRunnerComponents,
  CheckRunnerInit,
  DeregisterCause,
  StatusChange,
  TtlReport,
} from './check-runner-types.js'
export type { CheckInfo, CheckResult, CheckState, CheckThresholds } from './check-state.js'
export {
  aggregateStatus,
  applyResult,
  checkInfo,
  deregisterDueIn,
  forceResult,
  initialCheckState,
} from './check-state.js'
export type { Scheduler } from './scheduler.js'
export { globalScheduler } from './scheduler.js'
export { type ValidateChecksOptions, validateChecks } from './validate-checks.js'
