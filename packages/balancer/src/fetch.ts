import type { Discovery, Endpoint, ServiceQuery } from '@grapevine/core'
import { type Balancer, createBalancer } from './balancer.js'
import { HttpStatusError, RetryError, RetryTimeoutError } from './errors.js'
import type { Filter } from './filters.js'
import type { Picker } from './picker.js'
import { retry } from './retry.js'
import { createRoundRobinPicker } from './round-robin.js'

export interface FetchRetryInit {
  /** Attempts per request, the first included. @default 3 */
  max?: number
  /** Deadline per request for all attempts, in ms. @default 10_000 */
  timeout?: number
  /**
   * Response statuses that move the request to another instance, e.g. `[502, 503, 504]` for
   * idempotent requests. When the last attempt gets one, that response is returned.
   * @default []
   */
  retryOnStatus?: readonly number[]
}

export interface FetchInit {
  discovery: Discovery
  /** A new picker for each service. @default () => createRoundRobinPicker() */
  picker?: (service: string) => Picker
  /** Retry policy; `false` makes one attempt. @default { max: 3, timeout: 10_000 } */
  retry?: FetchRetryInit | false
  /** Passed to every service's watch. */
  query?: ServiceQuery
  /** Applied to every service's instances. */
  filters?: readonly Filter[]
  /**
   * Whether a URL's host names a service. By default a host without an explicit port is a
   * service when the registry knows it (has instances now, or had them earlier).
   */
  isService?: (host: string) => boolean
  /** The fetch that sends requests. @default globalThis.fetch */
  fetch?: typeof fetch
}

/** `fetch`, resolving `http://SERVICE/…` through the registry. */
export interface GrapevineFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** Stops following the services seen so far. */
  close(): Promise<void>
}

// Failures where the request cannot have reached the server: always safe to send elsewhere.
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
])
// The connection broke mid-request: the server may have acted, so only idempotent methods.
const BROKEN_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** Error codes along an error's `cause` chain (undici wraps them: `TypeError('fetch failed')`). */
function errorCodes(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 4) return []
  const codes: string[] = []
  const { code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown }
  if (typeof code === 'string') codes.push(code)
  if (Array.isArray(errors)) for (const e of errors) codes.push(...errorCodes(e, depth + 1))
  codes.push(...errorCodes(cause, depth + 1))
  return codes
}

/** Whether a failed attempt may be repeated on another instance. */
export function isRetryableFetchError(err: unknown, method: string): boolean {
  if (err instanceof HttpStatusError) return true
  const codes = errorCodes(err)
  if (codes.some((c) => CONNECT_CODES.has(c))) return true
  return IDEMPOTENT.has(method.toUpperCase()) && codes.some((c) => BROKEN_CODES.has(c))
}

/** The host as written (URL lowercases it; service names may not be). */
function rawHost(input: string, url: URL): string {
  const match = /^[a-z]+:\/\/([^/?#:@]+)/i.exec(input)
  return match?.[1] ?? url.hostname
}

function rewrite(url: URL, endpoint: Endpoint): string {
  const target = new URL(url)
  target.hostname = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
  target.port = String(endpoint.port)
  return target.toString()
}

/**
 * A `fetch` for `http://SERVICE/path` and `https://SERVICE/path`: each attempt picks an
 * instance with an endpoint of the URL's scheme and sends the request to its host and port,
 * path and query unchanged. Other URLs go to the underlying fetch untouched. Requests move
 * to another instance on connection errors (resets only for idempotent methods) and on the
 * statuses in `retryOnStatus`; requests with a streaming body are sent once. When several
 * attempts failed it throws a `RetryError` listing them; when only one was made (the failure
 * was not retryable: a `NoInstancesError`, a reset POST) it throws that error itself, and an
 * abort by the caller rejects with the signal's reason, as plain fetch does.
 */
export function createFetch(init: FetchInit): GrapevineFetch {
  const baseFetch = init.fetch ?? globalThis.fetch
  const makePicker = init.picker ?? (() => createRoundRobinPicker())
  const retryInit = init.retry === false ? { max: 1 } : (init.retry ?? {})
  const retryOnStatus = new Set(init.retry === false ? [] : (init.retry?.retryOnStatus ?? []))
  const balancers = new Map<string, Balancer>()
  const known = new Set<string>()
  const isService =
    init.isService ??
    ((host: string) => known.has(host) || init.discovery.getService(host).length > 0)

  function balancerFor(service: string, scheme: string): Balancer {
    const key = `${scheme}://${service}`
    let balancer = balancers.get(key)
    if (balancer === undefined) {
      balancer = createBalancer({
        discovery: init.discovery,
        service,
        picker: makePicker(service),
        query: init.query,
        filters: init.filters,
        schemes: [scheme],
      })
      balancers.set(key, balancer)
      known.add(service)
    }
    return balancer
  }

  const grapevineFetch = async (
    input: string | URL | Request,
    requestInit?: RequestInit,
  ): Promise<Response> => {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const url = new URL(raw)
    const scheme = url.protocol.slice(0, -1)
    if ((scheme !== 'http' && scheme !== 'https') || url.port !== '') {
      return baseFetch(input, requestInit)
    }
    const service = rawHost(raw, url)
    if (!isService(service)) return baseFetch(input, requestInit)

    const request = input instanceof Request ? input : undefined
    const method = requestInit?.method ?? request?.method ?? 'GET'
    const streaming = requestInit?.body instanceof ReadableStream
    const callerSignal = requestInit?.signal ?? request?.signal ?? undefined
    const balancer = balancerFor(service, scheme)
    const run = retry(balancer, {
      max: streaming ? 1 : retryInit.max,
      timeout: retryInit.timeout,
      shouldRetry: (err) => isRetryableFetchError(err, method),
    })
    try {
      return await run(
        async (selected, { signal }) => {
          const target = rewrite(url, selected.endpoint)
          const attemptInput = request === undefined ? target : new Request(target, request.clone())
          const response = await baseFetch(attemptInput, { ...requestInit, signal })
          if (retryOnStatus.has(response.status)) throw new HttpStatusError(response, target)
          return response
        },
        callerSignal ? { signal: callerSignal } : {},
      )
    } catch (err) {
      if (!(err instanceof RetryError)) throw err
      const last = err.final
      // Free the connections held by responses we are not handing out.
      for (const e of err.errors) {
        if (e instanceof HttpStatusError && e !== last) void e.response.body?.cancel()
      }
      if (last instanceof HttpStatusError) return last.response
      // A first failure that could not be retried reads best as itself, as plain fetch has it.
      if (err.errors.length === 1 && !(last instanceof RetryTimeoutError)) throw last
      throw err
    }
  }

  return Object.assign(grapevineFetch, {
    async close() {
      const all = [...balancers.values()]
      balancers.clear()
      await Promise.all(all.map((b) => b.close()))
    },
  })
}
