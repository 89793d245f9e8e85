import { connect } from 'node:net'
import { formatDuration, type HealthStatus } from '@grapevine/core'
import {
  CHECK_LIMITS,
  type HttpCheckDefinition,
  type ProbedCheckDefinition,
  type TcpCheckDefinition,
} from './check-definition.js'
import type { CheckResult } from './check-state.js'

/**
 * Runs one check once. A probe never rejects: every failure is a `critical` result whose
 * output says why. It must settle within the check's `timeout`, and soon after `signal`
 * aborts (the runner aborts when the check is removed or the runner stops).
 */
export type Probe = (check: ProbedCheckDefinition, signal?: AbortSignal) => Promise<CheckResult>

/** The probes of the built-in kinds. */
export const runProbe: Probe = (check, signal) =>
  check.kind === 'http' ? probeHttp(check, signal) : probeTcp(check, signal)

/** 2xx is passing and 429 (Too Many Requests: alive but shedding load) warning, as in Consul. */
export function httpStatusToHealth(code: number): HealthStatus {
  if (code >= 200 && code < 300) return 'passing'
  return code === 429 ? 'warning' : 'critical'
}

function truncate(text: string): string {
  const limit = CHECK_LIMITS.outputLength
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`
}

/** The most specific message: fetch wraps the socket error (ECONNREFUSED…) as its cause. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  return err.cause instanceof Error ? err.cause.message : err.message
}

function bound(timeoutMs: number, signal: AbortSignal | undefined) {
  const timeout = AbortSignal.timeout(timeoutMs)
  return { timeout, signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) }
}

function abortedOutput(label: string, timeout: AbortSignal, timeoutMs: number): string {
  return timeout.aborted
    ? `${label}: timed out after ${formatDuration(timeoutMs)}`
    : `${label}: check stopped`
}

/**
 * Reads at most `limit` characters of a body, then cancels the rest so a large or endless
 * response neither fills memory nor holds the check past its verdict.
 */
async function readPrefix(body: ReadableStream<Uint8Array> | null, limit: number) {
  if (body === null) return ''
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } finally {
    // Cancelling an errored or finished stream rejects; there is nothing left to release then.
    await reader.cancel().catch(() => undefined)
  }
  return text
}

/**
 * Requests `check.url`; the status code decides (see `httpStatusToHealth`), the start of the
 * body becomes the output. Refused connections, DNS failures and timeouts are critical.
 */
export async function probeHttp(
  check: HttpCheckDefinition,
  signal?: AbortSignal,
): Promise<CheckResult> {
  const label = `HTTP ${check.method} ${check.url}`
  const bounds = bound(check.timeout, signal)
  let response: Response
  try {
    response = await fetch(check.url, {
      method: check.method,
      headers: {
        'user-agent': 'Grapevine Health Check',
        accept: 'text/plain, text/*, */*',
        ...check.headers,
      },
      signal: bounds.signal,
    })
  } catch (err) {
    const output = bounds.signal.aborted
      ? abortedOutput(label, bounds.timeout, check.timeout)
      : `${label}: ${describe(err)}`
    return { status: 'critical', output: truncate(output) }
  }
  let body: string
  try {
    body = await readPrefix(response.body, CHECK_LIMITS.outputLength)
  } catch (err) {
    // Like Consul, the status line decides even when the body cannot be read in time.
    body = `(body unreadable: ${describe(err)})`
  }
  const statusLine = `${response.status} ${response.statusText}`.trim()
  return {
    status: httpStatusToHealth(response.status),
    output: truncate(`${label}: ${statusLine} Output: ${body}`),
  }
}

/** Opens a TCP connection to `check.address` and closes it at once: connected is passing. */
export function probeTcp(check: TcpCheckDefinition, signal?: AbortSignal): Promise<CheckResult> {
  const label = `TCP connect ${check.address}`
  const bounds = bound(check.timeout, signal)
  return new Promise((resolve) => {
    if (bounds.signal.aborted) {
      resolve({ status: 'critical', output: abortedOutput(label, bounds.timeout, check.timeout) })
      return
    }
    const socket = connect({ host: check.host, port: check.port })
    let settled = false
    const finish = (status: HealthStatus, output: string) => {
      if (settled) return
      settled = true
      bounds.signal.removeEventListener('abort', onAbort)
      socket.destroy()
      resolve({ status, output: truncate(output) })
    }
    const onAbort = () => finish('critical', abortedOutput(label, bounds.timeout, check.timeout))
    bounds.signal.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => finish('passing', `${label}: Success`))
    // `on`, not `once`: a second error event without a listener would crash the process.
    socket.on('error', (err) => finish('critical', `${label}: ${err.message}`))
  })
}
