import {
  formatDuration,
  HEALTH_STATUSES,
  type HealthStatus,
  PROTOTYPE_KEYS,
  parseDuration,
  ValidationError,
  validateId,
} from '@grapevine/core'
import {
  CHECK_DEFAULTS,
  CHECK_KINDS,
  CHECK_LIMITS,
  type CheckDefinition,
  type CheckKind,
  type CheckOptions,
  type HttpCheckDefinition,
  MAX_DURATION_MS,
  type TcpCheckDefinition,
} from './check-definition.js'

type Fields = Record<string, unknown>

export interface ValidateChecksOptions {
  /** Shortest interval (and TTL) accepted, in ms. @default CHECK_DEFAULTS.minInterval */
  minInterval?: number
  /** Field name of the list in error messages. @default 'checks' */
  field?: string
}

/** Fields of each kind; anything else in a definition is refused, naming it. */
const SHARED_FIELDS = [
  'kind',
  'id',
  'name',
  'successesBeforePassing',
  'failuresBeforeCritical',
  'initialStatus',
  'deregisterCriticalAfter',
]
const KIND_FIELDS: Readonly<Record<CheckKind, readonly string[]>> = {
  http: [...SHARED_FIELDS, 'url', 'method', 'headers', 'interval', 'timeout'],
  tcp: [...SHARED_FIELDS, 'address', 'interval', 'timeout'],
  ttl: [...SHARED_FIELDS, 'ttl'],
}

function checkKnownFields(input: Fields, kind: CheckKind, field: string): void {
  const known = KIND_FIELDS[kind]
  for (const key of Object.keys(input)) {
    if (known.includes(key)) continue
    const meant = known.find((name) => name.toLowerCase() === key.toLowerCase())
    throw new ValidationError(
      `${field}.${key}`,
      meant === undefined
        ? `unknown field of a ${kind} check (it has ${known.join(', ')})`
        : `unknown field; did you mean "${meant}"?`,
    )
  }
}

/** An interval or TTL: a positive duration no shorter than the minimum. */
function periodic(value: unknown, field: string, minInterval: number): number {
  const ms = positiveDuration(value, field)
  if (ms < minInterval) {
    throw new ValidationError(field, `must be at least ${formatDuration(minInterval)}`)
  }
  return ms
}

function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A duration that must be positive and fit a Node timer. */
function positiveDuration(value: unknown, field: string): number {
  const ms = parseDuration(value, field)
  if (ms <= 0) throw new ValidationError(field, 'must be positive')
  if (ms > MAX_DURATION_MS) {
    throw new ValidationError(field, `must be at most ${MAX_DURATION_MS} ms (about 24.8 days)`)
  }
  return ms
}

function threshold(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(field, 'must be a whole number, 0 or more')
  }
  // Consul's 0 means "the first result counts", which is what 1 means here.
  return Math.max(1, value)
}

function initialStatus(value: unknown, field: string): HealthStatus {
  if (value === undefined) return CHECK_DEFAULTS.initialStatus
  if (typeof value !== 'string' || !HEALTH_STATUSES.includes(value as HealthStatus)) {
    throw new ValidationError(field, `must be one of ${HEALTH_STATUSES.join(', ')}`)
  }
  return value as HealthStatus
}

function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, 'must be a non-empty string')
  }
  if (value.length > max) throw new ValidationError(field, `must be at most ${max} characters`)
  return value
}

/** `timeout` defaults to the interval, capped at Consul's 10 s. */
function timing(
  input: Fields,
  field: string,
  minInterval: number,
): { interval: number; timeout: number } {
  if (input.interval === undefined) {
    throw new ValidationError(`${field}.interval`, `is required for ${String(input.kind)} checks`)
  }
  const interval = periodic(input.interval, `${field}.interval`, minInterval)
  const timeout =
    input.timeout === undefined
      ? Math.min(interval, CHECK_DEFAULTS.maxDefaultTimeout)
      : positiveDuration(input.timeout, `${field}.timeout`)
  return { interval, timeout }
}

const METHOD_PATTERN = /^[A-Za-z]+$/
// RFC 9110 token characters; values must not smuggle a header break.
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HEADER_VALUE_PATTERN = /^[^\r\n\0]*$/

function headers(value: unknown, field: string): Record<string, string> {
  if (value === undefined) return {}
  if (!isPlainObject(value)) throw new ValidationError(field, 'must be an object of strings')
  const names = Object.keys(value)
  if (names.length > CHECK_LIMITS.headers) {
    throw new ValidationError(field, `must have at most ${CHECK_LIMITS.headers} headers`)
  }
  const out: Record<string, string> = {}
  for (const name of names) {
    if (!HEADER_NAME_PATTERN.test(name) || PROTOTYPE_KEYS.has(name)) {
      throw new ValidationError(`${field}.${name}`, 'is not a valid header name')
    }
    const v = value[name]
    if (typeof v !== 'string' || !HEADER_VALUE_PATTERN.test(v)) {
      throw new ValidationError(`${field}.${name}`, 'must be a string without line breaks')
    }
    if (v.length > CHECK_LIMITS.headerValueLength) {
      throw new ValidationError(
        `${field}.${name}`,
        `must be at most ${CHECK_LIMITS.headerValueLength} characters`,
      )
    }
    out[name] = v
  }
  return out
}

/** What one kind adds to the shared options. */
type KindFields<D> = Omit<D, keyof CheckOptions | 'kind'>

function httpFields(
  input: Fields,
  field: string,
  minInterval: number,
): KindFields<HttpCheckDefinition> {
  const raw = input.url
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new ValidationError(`${field}.url`, 'is required for http checks')
  }
  if (raw.length > CHECK_LIMITS.urlLength) {
    throw new ValidationError(
      `${field}.url`,
      `must be at most ${CHECK_LIMITS.urlLength} characters`,
    )
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ValidationError(`${field}.url`, `"${raw}" is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`${field}.url`, 'must be an http: or https: URL')
  }
  let method = 'GET'
  if (input.method !== undefined) {
    if (typeof input.method !== 'string' || !METHOD_PATTERN.test(input.method)) {
      throw new ValidationError(`${field}.method`, 'must be an HTTP method such as GET or HEAD')
    }
    method = input.method.toUpperCase()
  }
  return {
    url: url.href,
    method,
    headers: Object.freeze(headers(input.headers, `${field}.headers`)),
    ...timing(input, field, minInterval),
  }
}

function tcpFields(
  input: Fields,
  field: string,
  minInterval: number,
): KindFields<TcpCheckDefinition> {
  const address = input.address
  const bad = () =>
    new ValidationError(`${field}.address`, 'must be "host:port", IPv6 hosts in brackets')
  if (typeof address !== 'string' || address.length === 0) {
    throw new ValidationError(`${field}.address`, 'is required for tcp checks, as "host:port"')
  }
  let url: URL
  try {
    // The URL parser knows IPv6 brackets and port ranges; a special-less scheme keeps it
    // from inventing a default port.
    url = new URL(`tcp://${address}`)
  } catch {
    throw bad()
  }
  const extra = url.username || url.password || url.pathname || url.search || url.hash
  if (extra || url.hostname === '' || url.port === '' || url.port === '0') throw bad()
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return { address, host, port: Number(url.port), ...timing(input, field, minInterval) }
}

function validateCheck(
  input: unknown,
  field: string,
  index: number,
  minInterval: number,
): CheckDefinition {
  if (!isPlainObject(input)) throw new ValidationError(field, 'must be an object')
  const kind = input.kind
  if (typeof kind !== 'string' || !CHECK_KINDS.includes(kind as CheckKind)) {
    const shown = typeof kind === 'string' ? `"${kind}"` : String(kind)
    throw new ValidationError(
      `${field}.kind`,
      `${shown} is not a check kind; use one of ${CHECK_KINDS.join(', ')}`,
    )
  }
  checkKnownFields(input, kind as CheckKind, field)
  let fields: Fields
  let summary: string
  if (kind === 'http') {
    const http = httpFields(input, field, minInterval)
    fields = http
    summary = `HTTP ${http.method} ${http.url}`
  } else if (kind === 'tcp') {
    const tcp = tcpFields(input, field, minInterval)
    fields = tcp
    summary = `TCP ${tcp.address}`
  } else {
    if (input.ttl === undefined) throw new ValidationError(`${field}.ttl`, 'is required')
    const ttl = periodic(input.ttl, `${field}.ttl`, minInterval)
    fields = { ttl }
    summary = `TTL ${formatDuration(ttl)}`
  }

  const name = optionalString(input.name, `${field}.name`, CHECK_LIMITS.nameLength)
  const id =
    input.id === undefined
      ? validateId(name ?? `${kind}-${index}`, `${field}.id`)
      : validateId(input.id, `${field}.id`)
  const deregisterCriticalAfter =
    input.deregisterCriticalAfter === undefined
      ? undefined
      : positiveDuration(input.deregisterCriticalAfter, `${field}.deregisterCriticalAfter`)
  // The discriminated union cannot be proven from the branches above; `kind` and the kind's
  // fields were validated together, so the assertion holds.
  return Object.freeze({
    kind,
    ...fields,
    id,
    name: name ?? summary,
    successesBeforePassing: threshold(
      input.successesBeforePassing,
      `${field}.successesBeforePassing`,
      CHECK_DEFAULTS.successesBeforePassing,
    ),
    failuresBeforeCritical: threshold(
      input.failuresBeforeCritical,
      `${field}.failuresBeforeCritical`,
      CHECK_DEFAULTS.failuresBeforeCritical,
    ),
    initialStatus: initialStatus(input.initialStatus, `${field}.initialStatus`),
    deregisterCriticalAfter,
  }) as CheckDefinition
}

/**
 * Validates the `checks` of a registration and returns them with defaults filled in and
 * durations in milliseconds. Undefined means no checks. Unknown fields are refused, as
 * `validateRegistration` does, and intervals and TTLs below `minInterval` (1 s, Consul's
 * minimum) too. Throws `ValidationError` naming the first bad field, such as
 * `checks[0].interval`, so a bad definition is refused at register time, before anything runs.
 */
export function validateChecks(
  input: unknown,
  options: ValidateChecksOptions = {},
): CheckDefinition[] {
  const field = options.field ?? 'checks'
  const minInterval = options.minInterval ?? CHECK_DEFAULTS.minInterval
  if (input === undefined) return []
  if (!Array.isArray(input)) throw new ValidationError(field, 'must be an array of checks')
  if (input.length > CHECK_LIMITS.checks) {
    throw new ValidationError(field, `must have at most ${CHECK_LIMITS.checks} checks`)
  }
  const seen = new Set<string>()
  return input.map((item, index) => {
    const check = validateCheck(item, `${field}[${index}]`, index, minInterval)
    if (seen.has(check.id)) {
      throw new ValidationError(
        `${field}[${index}].id`,
        `"${check.id}" is used by another check of this instance; give each check its own id or name`,
      )
    }
    seen.add(check.id)
    return check
  })
}
