import type { Discovery, ServiceInstance, ServiceQuery } from '@grapevine/core'
import { toCandidates } from './candidates.js'
import { BalancerClosedError, NoInstancesError } from './errors.js'
import { applyFilters, type Filter } from './filters.js'
import { followService } from './follow.js'
import type { Candidate, Clock, Picker } from './picker.js'
import { createRoundRobinPicker } from './round-robin.js'

export interface BalancerInit {
  /** Where instances come from: an agent, or anything with the go-kratos `Discovery` shape. */
  discovery: Discovery
  /** The service to balance over. */
  service: string
  /** The policy; one picker per balancer. @default createRoundRobinPicker() */
  picker?: Picker
  /**
   * Passed to `discovery.watch`, so the agent filters (and health-filters) before the
   * balancer sees the list.
   */
  query?: ServiceQuery
  /** Applied in order to every list the watch delivers. @default [] */
  filters?: readonly Filter[]
  /**
   * Endpoint schemes callers can use, e.g. `['http', 'https']`: instances without such an
   * endpoint are left out, and `pick()` hands out the instance's first matching endpoint.
   * Empty: every instance with an endpoint, using its first.
   * @default []
   */
  schemes?: readonly string[]
  /** How long `ready` waits for the registry's first list before rejecting. @default 5_000 */
  readyTimeoutMs?: number
  /** Measures latency for `done()` without one. @default performance.now */
  now?: Clock
}

export interface PickOptions {
  /**
   * Candidate keys to skip, such as those that already failed this request; ignored when
   * nothing else is left, since a second try at a failed instance beats no try.
   */
  avoid?: ReadonlySet<string>
}

/** How a call on a selected instance went; `latencyMs` defaults to the time since `pick()`. */
export interface DoneReport {
  readonly error?: unknown
  readonly latencyMs?: number
}

/** A picked instance. Call `done` exactly once when the call ends (later calls are ignored). */
export interface Selected extends Candidate {
  done(report?: DoneReport): void
}

/** Client-side load balancing over one service, following the registry live. */
export interface Balancer {
  readonly service: string
  /**
   * Resolves once the registry delivered the service's first list — with go-kratos watchers,
   * once the service has an instance. `pick()` may still throw `NoInstancesError` then, when
   * the filters or schemes leave none: that is the answer, not a reason to wait. Rejects with
   * `NoInstancesError` after `readyTimeoutMs` without a list, or `BalancerClosedError` when
   * closed first. Never an unhandled rejection: await it only if you care.
   */
  readonly ready: Promise<void>
  /** Picks an instance now; throws `NoInstancesError` when there is none. */
  pick(options?: PickOptions): Selected
  /** The current candidates (instances after filters, with their endpoints), by key. */
  candidates(): readonly Candidate[]
  /** The current instances after filters and schemes. */
  instances(): ServiceInstance[]
  /** Stops following the registry; later picks throw `BalancerClosedError`. */
  close(): Promise<void>
}

/**
 * Creates a balancer and starts following the service at once. Throws what
 * `discovery.watch` throws (a stopped agent).
 */
export function createBalancer(init: BalancerInit): Balancer {
  const { discovery, service } = init
  const picker = init.picker ?? createRoundRobinPicker()
  const filters = init.filters ?? []
  const schemes = init.schemes ?? []
  const now = init.now ?? (() => performance.now())
  let candidates: readonly Candidate[] = []
  let closed = false

  let timer: ReturnType<typeof setTimeout> | undefined
  let settleReady: ((error?: Error) => void) | undefined
  const ready = new Promise<void>((resolve, reject) => {
    settleReady = (error) => {
      settleReady = undefined
      clearTimeout(timer)
      if (error === undefined) resolve()
      else reject(error)
    }
  })
  ready.catch(() => {})
  const following = followService(discovery, service, init.query, (instances) => {
    candidates = toCandidates(applyFilters(instances, filters), schemes)
    picker.update?.(candidates)
    settleReady?.()
  })
  const readyTimeoutMs = init.readyTimeoutMs ?? 5_000
  timer = setTimeout(
    () => settleReady?.(new NoInstancesError(service, `none appeared within ${readyTimeoutMs} ms`)),
    readyTimeoutMs,
  )
  timer.unref()

  function pick(options: PickOptions = {}): Selected {
    if (closed) throw new BalancerClosedError(service)
    if (candidates.length === 0) {
      const detail = following.error ? `watch failed: ${following.error.message}` : undefined
      throw new NoInstancesError(service, detail)
    }
    const avoid = options.avoid
    let pool = candidates
    if (avoid !== undefined && avoid.size > 0) {
      const rest = candidates.filter((c) => !avoid.has(c.key))
      if (rest.length > 0) pool = rest
    }
    const picked = picker.pick(pool)
    const started = now()
    let finished = false
    return {
      ...picked.candidate,
      done(report = {}) {
        if (finished) return
        finished = true
        picked.done?.({ error: report.error, latencyMs: report.latencyMs ?? now() - started })
      },
    }
  }

  return {
    service,
    ready,
    pick,
    candidates: () => candidates,
    instances: () => candidates.map((c) => c.instance),
    async close() {
      if (closed) return
      closed = true
      settleReady?.(new BalancerClosedError(service))
      await following.stop()
    },
  }
}
