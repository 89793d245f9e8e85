import {
  AgentStoppedError,
  formatDuration,
  type HealthStatus,
  NotFoundError,
  ValidationError,
} from '@grapevine/core'
import { CHECK_LIMITS, type CheckDefinition } from './check-definition.js'
import { CheckNotFoundError, NotTtlCheckError } from './check-errors.js'
import { type Probe, runProbe } from './check-probe.js'
import type {
  CheckRunner,
  CheckRunnerComponents,
  CheckRunnerInit,
  TtlReport,
} from './check-runner-types.js'
import {
  aggregateStatus,
  applyResult,
  type CheckInfo,
  type CheckResult,
  type CheckState,
  checkInfo,
  deregisterDueIn,
  forceResult,
  initialCheckState,
} from './check-state.js'
import { globalScheduler, type Scheduler } from './scheduler.js'

const TTL_REPORTS: Readonly<Record<TtlReport, HealthStatus>> = {
  pass: 'passing',
  warn: 'warning',
  fail: 'critical',
}

interface RunningCheck {
  readonly definition: CheckDefinition
  state: CheckState
  /** The next run of an HTTP/TCP check, or the expiry of a TTL check. */
  timer: unknown
  deregisterTimer: unknown
  /** Aborts the run in flight; set only while a probe runs, so runs never overlap. */
  inFlight: AbortController | undefined
  /** False once removed: late timers and probes must not touch anything. */
  active: boolean
}

/** What `onChecks` last reported of one check (the add counts as a report). */
interface ReportedCheck {
  readonly status: HealthStatus
  readonly output: string
  readonly ran: boolean
}

interface RunningInstance {
  readonly id: string
  readonly checks: Map<string, RunningCheck>
  status: HealthStatus
  reported: Map<string, ReportedCheck>
  reportedAt: number
}

const DEFAULT_CHECK_UPDATE_INTERVAL = 300_000

function reportOf(checks: Map<string, RunningCheck>): Map<string, ReportedCheck> {
  const out = new Map<string, ReportedCheck>()
  for (const [id, { state }] of checks) {
    out.set(id, { status: state.status, output: state.output, ran: state.lastRun !== undefined })
  }
  return out
}

function aggregateOf(checks: Map<string, RunningCheck>): HealthStatus {
  return aggregateStatus([...checks.values()].map((check) => check.state.status))
}

class DefaultCheckRunner implements CheckRunner {
  private readonly instances = new Map<string, RunningInstance>()
  private readonly now: () => number
  private readonly scheduler: Scheduler
  private readonly probe: Probe
  private readonly random: () => number
  private stopped = false

  constructor(
    private readonly init: CheckRunnerInit,
    private readonly components: CheckRunnerComponents,
  ) {
    this.now = components.now ?? (() => performance.now())
    this.scheduler = components.scheduler ?? globalScheduler
    this.probe = components.probe ?? runProbe
    this.random = components.random ?? Math.random
  }

  add(instanceId: string, definitions: readonly CheckDefinition[]): HealthStatus {
    if (this.stopped) throw new AgentStoppedError()
    const previous = this.instances.get(instanceId)
    this.remove(instanceId)
    if (definitions.length === 0) return 'passing'
    const now = this.now()
    const checks = new Map<string, RunningCheck>()
    for (const definition of definitions) {
      const kept = previous?.checks.get(definition.id)
      const state =
        kept?.definition.kind === definition.kind
          ? kept.state
          : initialCheckState(definition.initialStatus, now)
      checks.set(definition.id, {
        definition,
        state,
        timer: undefined,
        deregisterTimer: undefined,
        inFlight: undefined,
        active: true,
      })
    }
    const instance: RunningInstance = {
      id: instanceId,
      checks,
      status: aggregateOf(checks),
      reported: reportOf(checks),
      reportedAt: now,
    }
    this.instances.set(instanceId, instance)
    for (const check of checks.values()) {
      this.start(instance, check)
      this.armDeregister(instance, check)
    }
    return instance.status
  }

  remove(instanceId: string): boolean {
    const instance = this.instances.get(instanceId)
    if (instance === undefined) return false
    this.instances.delete(instanceId)
    for (const check of instance.checks.values()) {
      check.active = false
      this.clear(check.timer)
      this.clear(check.deregisterTimer)
      check.inFlight?.abort()
    }
    return true
  }

  ttlUpdate(instanceId: string, checkId: string, report: TtlReport, note?: string): void {
    const status = Object.hasOwn(TTL_REPORTS, report) ? TTL_REPORTS[report] : undefined
    if (status === undefined) throw new ValidationError('status', 'must be pass, warn or fail')
    if (note !== undefined && typeof note !== 'string') {
      throw new ValidationError('note', 'must be a string')
    }
    const instance = this.instances.get(instanceId)
    if (instance === undefined) throw new NotFoundError(instanceId)
    const check = instance.checks.get(checkId)
    if (check === undefined) throw new CheckNotFoundError(instanceId, checkId)
    const { definition } = check
    if (definition.kind !== 'ttl') {
      throw new NotTtlCheckError(instanceId, checkId, definition.kind)
    }
    this.schedule(check, definition.ttl, () => this.expire(instance, check))
    const output = (note ?? '').slice(0, CHECK_LIMITS.outputLength)
    this.record(
      instance,
      check,
      applyResult(check.state, { status, output }, definition, this.now()),
    )
  }

  status(instanceId: string): HealthStatus | undefined {
    return this.instances.get(instanceId)?.status
  }

  checks(instanceId: string): CheckInfo[] | undefined {
    const instance = this.instances.get(instanceId)
    if (instance === undefined) return undefined
    const now = this.now()
    return [...instance.checks.values()].map((check) => this.info(check, now))
  }

  instanceIds(): string[] {
    return [...this.instances.keys()]
  }

  stop(): void {
    this.stopped = true
    for (const id of [...this.instances.keys()]) this.remove(id)
  }

  private start(instance: RunningInstance, check: RunningCheck): void {
    const { definition } = check
    if (definition.kind === 'ttl') {
      this.schedule(check, definition.ttl, () => this.expire(instance, check))
      return
    }
    const stagger = Math.min(1, Math.max(0, this.init.initialStagger ?? 0))
    const delay = stagger * this.random() * definition.interval
    this.schedule(check, delay, () => void this.run(instance, check))
  }

  /** (Re)sets a check's one timer: its next run, or its TTL expiry. */
  private schedule(check: RunningCheck, ms: number, callback: () => void): void {
    this.clear(check.timer)
    check.timer = this.scheduler.setTimeout(callback, ms)
  }

  /** One run of an HTTP/TCP check; the next is scheduled only when this one is done. */
  private async run(instance: RunningInstance, check: RunningCheck): Promise<void> {
    const { definition } = check
    check.timer = undefined
    if (!check.active || definition.kind === 'ttl') return
    const controller = new AbortController()
    check.inFlight = controller
    let result: CheckResult
    try {
      result = await this.probe(definition, controller.signal)
    } catch (err) {
      // Built-in probes never reject; an injected one might.
      result = { status: 'critical', output: `probe failed: ${String(err)}` }
    }
    check.inFlight = undefined
    if (!check.active) return
    this.record(instance, check, applyResult(check.state, result, definition, this.now()))
    if (!check.active) return // a callback removed the instance
    this.schedule(check, definition.interval, () => void this.run(instance, check))
  }

  private expire(instance: RunningInstance, check: RunningCheck): void {
    check.timer = undefined
    if (!check.active || check.definition.kind !== 'ttl') return
    const output = `TTL expired: no pass / warn / fail within ${formatDuration(check.definition.ttl)}`
    this.record(
      instance,
      check,
      forceResult(check.state, { status: 'critical', output }, this.now()),
    )
  }

  /** Stores a check's new state, re-arms its deregistration and reports a new aggregate. */
  private record(instance: RunningInstance, check: RunningCheck, state: CheckState): void {
    check.state = state
    this.armDeregister(instance, check)
    const status = aggregateOf(instance.checks)
    if (status !== instance.status) {
      const previous = instance.status
      instance.status = status
      const info = this.info(check, this.now())
      this.notify(instance.id, () =>
        this.components.onStatus(instance.id, status, { previous, check: info }),
      )
    }
    if (check.active) this.reportChecks(instance)
  }

  /** Calls `onChecks` when what other nodes see of the checks is due to change. */
  private reportChecks(instance: RunningInstance): void {
    const onChecks = this.components.onChecks
    if (onChecks === undefined) return
    const now = this.now()
    const interval = this.init.checkUpdateInterval ?? DEFAULT_CHECK_UPDATE_INTERVAL
    let urgent = false
    let outputOnly = false
    for (const [id, { state }] of instance.checks) {
      const reported = instance.reported.get(id)
      if (
        reported === undefined ||
        reported.status !== state.status ||
        (!reported.ran && state.lastRun !== undefined)
      ) {
        urgent = true
      } else if (reported.output !== state.output) {
        outputOnly = true
      }
    }
    if (!urgent && !(outputOnly && now - instance.reportedAt >= interval)) return
    instance.reported = reportOf(instance.checks)
    instance.reportedAt = now
    const infos = [...instance.checks.values()].map((check) => this.info(check, now))
    this.notify(instance.id, () => onChecks(instance.id, instance.status, infos))
  }

  /**
   * Keeps one timer per critical spell: set when the check turns critical, cleared when it
   * recovers. `criticalSince` does not move during a spell, so an armed timer stays right.
   */
  private armDeregister(instance: RunningInstance, check: RunningCheck): void {
    const due = deregisterDueIn(check.state, check.definition.deregisterCriticalAfter, this.now())
    if (due === undefined) {
      this.clear(check.deregisterTimer)
      check.deregisterTimer = undefined
    } else if (check.deregisterTimer === undefined) {
      check.deregisterTimer = this.scheduler.setTimeout(() => {
        check.deregisterTimer = undefined
        this.deregisterIfDue(instance, check)
      }, due)
    }
  }

  private deregisterIfDue(instance: RunningInstance, check: RunningCheck): void {
    if (!check.active) return
    const now = this.now()
    const due = deregisterDueIn(check.state, check.definition.deregisterCriticalAfter, now)
    if (due === undefined) return
    if (due > 0) {
      // The timer fired early by the clock's reckoning (timers and clocks drift): wait on.
      this.armDeregister(instance, check)
      return
    }
    const info = this.info(check, now)
    this.remove(instance.id)
    this.notify(instance.id, () =>
      this.components.onDeregister(instance.id, {
        check: info,
        criticalForMs: info.criticalForMs ?? 0,
      }),
    )
  }

  private info(check: RunningCheck, now: number): CheckInfo {
    return checkInfo(check.definition, check.state, now)
  }

  private clear(handle: unknown): void {
    if (handle !== undefined) this.scheduler.clearTimeout(handle)
  }

  private notify(instanceId: string, callback: () => void): void {
    try {
      callback()
    } catch (err) {
      const onError =
        this.components.onError ??
        ((e: unknown, id: string) =>
          process.emitWarning(`health check callback for instance "${id}" threw: ${String(e)}`))
      onError(err, instanceId)
    }
  }
}

/**
 * Creates the runner of this node's health checks. Nothing runs until `add`; `stop` when the
 * agent stops.
 */
export function createCheckRunner(
  init: CheckRunnerInit,
  components: CheckRunnerComponents,
): CheckRunner {
  return new DefaultCheckRunner(init, components)
}
