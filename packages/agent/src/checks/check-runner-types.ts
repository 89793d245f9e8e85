import type { HealthStatus } from '@grapevine/core'
import type { CheckDefinition } from './check-definition.js'
import type { Probe } from './check-probe.js'
import type { CheckInfo } from './check-state.js'
import type { Scheduler } from './scheduler.js'

/** What an application reports for a TTL check. */
export type TtlReport = 'pass' | 'warn' | 'fail'

/** Why `onStatus` fired. */
export interface StatusChange {
  readonly previous: HealthStatus
  /** The check whose new state changed the instance's status. */
  readonly check: CheckInfo
}

/** Why `onDeregister` fired. */
export interface DeregisterCause {
  /** The check that stayed critical for its `deregisterCriticalAfter`. */
  readonly check: CheckInfo
  readonly criticalForMs: number
}

export interface CheckRunnerInit {
  /**
   * Delays each check's first run by a random fraction of its interval, up to this share
   * (0–1), to spread the load when many instances register at once. 0 runs every new check at
   * once, so a new instance's status settles as soon as possible.
   * @default 0
   */
  initialStagger?: number
  /**
   * How often at most a change of check output alone is reported to `onChecks` (Consul's
   * `check_update_interval`): each report is a write that replicates to every node, and an
   * HTTP check's output may change on every run. A status change, and a check's first result,
   * are reported at once; pending output goes with the next run after the interval.
   * @default 300_000 (5 minutes, Consul's default)
   */
  checkUpdateInterval?: number
}

export interface CheckRunnerComponents {
  /**
   * An instance's aggregate status (the worst of its checks) changed. The agent turns this
   * into `RegistryNode.setStatus`, which replicates as a claim update.
   */
  onStatus(instanceId: string, status: HealthStatus, change: StatusChange): void
  /**
   * A check stayed critical for its `deregisterCriticalAfter`. The runner has already
   * dropped the instance's checks; the agent deregisters the instance.
   */
  onDeregister(instanceId: string, cause: DeregisterCause): void
  /**
   * The state of an instance's checks that other nodes should see changed: a check's status
   * or first result at once, its output alone at most every `checkUpdateInterval`. The agent
   * replicates it with `RegistryNode.setHealth`. Called after `onStatus` for the same change.
   */
  onChecks?(instanceId: string, status: HealthStatus, checks: readonly CheckInfo[]): void
  /**
   * A callback above threw. Timers call them, so throwing on would crash the process.
   * @default process.emitWarning
   */
  onError?(err: unknown, instanceId: string): void
  /** Monotonic milliseconds. @default performance.now */
  now?: () => number
  /** @default global timers, unref'd: health checks alone never keep a process alive */
  scheduler?: Scheduler
  /** Runs HTTP and TCP checks. @default runProbe */
  probe?: Probe
  /** For `initialStagger`. @default Math.random */
  random?: () => number
}

/**
 * Runs the health checks of this node's own instances and reports status changes. Checks of
 * other nodes' instances are never run here: each owner checks its own and replicates the
 * result as a claim update.
 */
export interface CheckRunner {
  /**
   * Starts the checks of an instance (validated by `validateChecks`) and returns its initial
   * status, to register it with; `onStatus` reports only later changes. Adding an instance
   * again replaces its checks but keeps the state of checks with the same id and kind, so a
   * re-registration does not flap (Consul does the same). No checks: the runner forgets the
   * instance and returns `passing`.
   */
  add(instanceId: string, checks: readonly CheckDefinition[]): HealthStatus
  /** Stops and forgets an instance's checks, without callbacks. False if it had none. */
  remove(instanceId: string): boolean
  /**
   * The application's report for a TTL check: sets its result (through the thresholds) and
   * restarts its TTL. Throws `NotFoundError`, `CheckNotFoundError` or `NotTtlCheckError`.
   */
  ttlUpdate(instanceId: string, checkId: string, report: TtlReport, note?: string): void
  /** Aggregate status; undefined for an instance the runner has no checks for. */
  status(instanceId: string): HealthStatus | undefined
  /** Per-check state for display; undefined for an instance the runner has no checks for. */
  checks(instanceId: string): CheckInfo[] | undefined
  /** Ids of the instances with checks. */
  instanceIds(): string[]
  /** Stops every check and aborts runs in flight; `add` throws afterwards. */
  stop(): void
}
