import { GrapevineError } from '@grapevine/core'

/**
 * Thrown by `Balancer.pick()` when no instance of the service is left after the registry's
 * query, the balancer's filters and its endpoint schemes; and by `Balancer.ready` when none
 * appeared within `readyTimeoutMs`. Check the service name, the filters, and that the
 * instances register an endpoint of the expected scheme.
 */
export class NoInstancesError extends GrapevineError {
  static readonly code = 'ERR_NO_INSTANCES'
  readonly service: string
  constructor(service: string, detail = 'no instance matches the query, filters and schemes') {
    super(NoInstancesError.code, `service "${service}": ${detail}`)
    this.service = service
  }
}

/** Thrown by `pick()` and `ready` once `close()` has been called on the balancer. */
export class BalancerClosedError extends GrapevineError {
  static readonly code = 'ERR_BALANCER_CLOSED'
  constructor(service: string) {
    super(BalancerClosedError.code, `balancer for "${service}" is closed; create a new one`)
  }
}

/**
 * Recorded as an attempt's error by `retry` when its overall `timeout` runs out: the attempt
 * under way is abandoned (its `signal` aborts with this error) and no other is started.
 */
export class RetryTimeoutError extends GrapevineError {
  static readonly code = 'ERR_RETRY_TIMEOUT'
  readonly timeoutMs: number
  constructor(timeoutMs: number) {
    super(RetryTimeoutError.code, `gave up after the retry timeout of ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }
}

/**
 * Thrown by `retry` when no attempt succeeded (go-kit's `lb.RetryError`): every attempt ran out,
 * the overall timeout passed, or `shouldRetry` said stop. `errors` holds each attempt's error in
 * order (a failed pick counts as an attempt); `final` is the last and is also the `cause`.
 */
export class RetryError extends GrapevineError {
  static readonly code = 'ERR_RETRY'
  readonly errors: readonly Error[]
  readonly final: Error
  constructor(errors: readonly Error[]) {
    const final = errors.at(-1) ?? new Error('no attempt was made')
    const list = errors.map((err, i) => `${i + 1}) ${err.message}`).join('; ')
    super(
      RetryError.code,
      `${errors.length} attempt${errors.length === 1 ? '' : 's'} failed, final: ${final.message}` +
        (errors.length > 1 ? ` [${list}]` : ''),
    )
    this.errors = errors
    this.final = final
    this.cause = final
  }
}

/**
 * Recorded as an attempt's error by the fetch helper when a response has one of the statuses
 * in `retryOnStatus`; `response` is that response. When it is the last attempt's error, the
 * fetch helper returns the response instead of throwing.
 */
export class HttpStatusError extends GrapevineError {
  static readonly code = 'ERR_HTTP_STATUS'
  readonly response: Response
  constructor(response: Response, url: string) {
    super(HttpStatusError.code, `${url} answered ${response.status} ${response.statusText}`)
    this.response = response
  }
}

/** Any thrown value as an Error, so lists of attempt errors are uniform. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}
