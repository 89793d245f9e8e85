import type { Balancer, Selected } from './balancer.js'
import { RetryError, RetryTimeoutError, toError } from './errors.js'

export interface RetryInit {
  /** Attempts in all, the first included. @default 3 */
  max?: number
  /** Deadline for the whole call, attempts and waiting for `ready` included, in ms. @default 10_000 */
  timeout?: number
  /**
   * Decides after each failed attempt (1-based) whether to go on; `false` ends the call with a
   * `RetryError` at once. Attempts that fail to pick (`NoInstancesError`) are asked too.
   * @default () => true
   */
  shouldRetry?: (error: Error, attempt: number) => boolean
}

/** What one attempt gets besides the selected instance. */
export interface AttemptContext {
  /** 1-based. */
  readonly attempt: number
  /** Aborts when the overall timeout passes or the caller's signal aborts: pass it on. */
  readonly signal: AbortSignal
}

export interface RetryCallOptions {
  /** Aborting stops the call and rejects with the signal's reason, not a `RetryError`. */
  signal?: AbortSignal
}

/** Runs `fn` on a freshly picked instance per attempt until one succeeds. */
export type Retrying = <T>(
  fn: (selected: Selected, context: AttemptContext) => Promise<T>,
  options?: RetryCallOptions,
) => Promise<T>

/** Settles like `promise`, or rejects with the signal's reason once it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {}) // settles later, unobserved: keep it from being unhandled
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}

/**
 * go-kit's `lb.Retry` over a balancer: every attempt picks afresh — skipping instances that
 * already failed this call while others remain — runs `fn`, and reports the outcome to the
 * picker (`done`). It stops at the first success, after `max` attempts, when `timeout`
 * passes (the attempt under way is aborted through its signal) or when `shouldRetry` says
 * so, and then throws a `RetryError` listing every attempt's error. Attempts follow each
 * other without delay, as in go-kit: the next instance is a different server, not a later try
 * at the same one. Before the first attempt it waits for `balancer.ready`, within the timeout.
 */
export function retry(balancer: Balancer, init: RetryInit = {}): Retrying {
  const max = init.max ?? 3
  const timeout = init.timeout ?? 10_000
  const shouldRetry = init.shouldRetry ?? (() => true)
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`retry max must be ≥ 1, got ${max}`)

  return async (fn, options = {}) => {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new RetryTimeoutError(timeout)), timeout)
    const caller = options.signal
    const onCallerAbort = () => controller.abort(caller?.reason)
    caller?.addEventListener('abort', onCallerAbort, { once: true })
    if (caller?.aborted) onCallerAbort()
    const signal = controller.signal
    const errors: Error[] = []
    const failed = new Set<string>()
    const stop = () => {
      if (caller?.aborted) throw caller.reason
      return new RetryError(errors)
    }
    try {
      try {
        await untilAborted(
          balancer.ready.catch(() => {}),
          signal,
        )
      } catch (err) {
        errors.push(toError(err))
        throw stop()
      }
      for (let attempt = 1; attempt <= max; attempt++) {
        let selected: Selected
        try {
          selected = balancer.pick({ avoid: failed })
        } catch (err) {
          errors.push(toError(err))
          if (!shouldRetry(toError(err), attempt)) break
          continue
        }
        try {
          const value = await untilAborted(fn(selected, { attempt, signal }), signal)
          selected.done()
          return value
        } catch (err) {
          const error = toError(err)
          selected.done({ error })
          errors.push(error)
          failed.add(selected.key)
          if (signal.aborted || !shouldRetry(error, attempt)) break
        }
      }
      throw stop()
    } finally {
      clearTimeout(timer)
      caller?.removeEventListener('abort', onCallerAbort)
    }
  }
}
