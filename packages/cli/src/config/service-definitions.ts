import { ValidationError } from '@grapevine/core'

/** A registration as read from a config-dir file: what the agent's `register` takes. */
export interface ServiceDefinition {
  /** The file it came from, for messages. */
  readonly file: string
  readonly registration: Record<string, unknown> & { id: string; name: string }
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Consul's config files spell keys in snake_case (`deregister_critical_service_after`) or
 * CamelCase (`DeregisterCriticalServiceAfter`); its API decoder is case-insensitive. So is
 * this: keys are compared without case and underscores.
 */
function pick(object: Json, ...names: string[]): unknown {
  const wanted = new Set(names.map(fold))
  for (const [key, value] of Object.entries(object)) if (wanted.has(fold(key))) return value
  return undefined
}

function fold(key: string): string {
  return key.replace(/_/g, '').toLowerCase()
}

function set(target: Json, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value
}

/**
 * One Consul check block → a Grapevine check definition. `HTTP`, `TCP` and `TTL` choose the
 * kind; interval, timeout, `deregister_critical_service_after`, `status` (the initial one),
 * `id`, `name`, `method` and `header` carry over. Other kinds (script, gRPC, Docker) are
 * refused by name rather than ignored.
 */
function toCheck(block: unknown, field: string): Json {
  if (!isObject(block)) throw new ValidationError(field, 'must be an object')
  const check: Json = {}
  const http = pick(block, 'http')
  const tcp = pick(block, 'tcp')
  const ttl = pick(block, 'ttl')
  const kind = pick(block, 'kind')
  if (http !== undefined) Object.assign(check, { kind: 'http', url: http })
  else if (tcp !== undefined) Object.assign(check, { kind: 'tcp', address: tcp })
  else if (ttl !== undefined) Object.assign(check, { kind: 'ttl', ttl })
  else if (kind !== undefined)
    return block // already a Grapevine check definition
  else {
    const other = ['args', 'script', 'grpc', 'docker_container_id', 'h2ping', 'alias_service']
      .map((name) => (pick(block, name) === undefined ? undefined : name))
      .find((name) => name !== undefined)
    throw new ValidationError(
      field,
      other === undefined
        ? 'needs one of http, tcp or ttl'
        : `${other} checks are not supported; use http, tcp or ttl`,
    )
  }
  set(check, 'id', pick(block, 'id', 'check_id'))
  set(check, 'name', pick(block, 'name'))
  set(check, 'interval', pick(block, 'interval'))
  set(check, 'timeout', pick(block, 'timeout'))
  set(check, 'method', pick(block, 'method'))
  set(check, 'deregisterCriticalAfter', pick(block, 'deregister_critical_service_after'))
  set(check, 'successesBeforePassing', pick(block, 'success_before_passing'))
  set(check, 'failuresBeforeCritical', pick(block, 'failures_before_critical'))
  set(check, 'initialStatus', pick(block, 'status'))
  const header = pick(block, 'header')
  if (isObject(header)) {
    // Consul's headers are lists of values; ours are single strings.
    check.headers = Object.fromEntries(
      Object.entries(header).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
    )
  }
  return check
}

/**
 * One `service` block → a registration. Consul's fields map as: `name`, `id` (default: the
 * name, as in Consul), `tags`, `meta` (or `metadata`), `address` + `port` → one endpoint
 * `http://address:port` (Consul has no scheme; `endpoints` gives full URLs instead), `version`
 * (or `meta.version`), `check` / `checks`. Values are validated by the agent, which names the
 * field; this only reshapes.
 */
export function toRegistration(block: unknown, field: string): ServiceDefinition['registration'] {
  if (!isObject(block)) throw new ValidationError(field, 'must be an object')
  const name = pick(block, 'name')
  if (typeof name !== 'string' || name === '') {
    throw new ValidationError(`${field}.name`, 'required')
  }
  const id = pick(block, 'id') ?? name
  if (typeof id !== 'string') throw new ValidationError(`${field}.id`, 'must be a string')
  const registration: ServiceDefinition['registration'] = { id, name }
  const meta = pick(block, 'meta', 'metadata')
  set(registration, 'tags', pick(block, 'tags'))
  set(registration, 'metadata', meta)
  set(
    registration,
    'version',
    pick(block, 'version') ?? (isObject(meta) ? meta.version : undefined),
  )
  const endpoints = pick(block, 'endpoints')
  const address = pick(block, 'address')
  const port = pick(block, 'port')
  if (endpoints !== undefined) registration.endpoints = endpoints as string[]
  else if (port !== undefined) {
    const host = typeof address === 'string' && address !== '' ? address : '127.0.0.1'
    const authority = host.includes(':') ? `[${host}]` : host
    registration.endpoints = [`http://${authority}:${String(port)}`]
  }
  const single = pick(block, 'check')
  const many = pick(block, 'checks')
  if (many !== undefined && !Array.isArray(many)) {
    throw new ValidationError(`${field}.checks`, 'must be an array')
  }
  const checks = [
    ...(single === undefined ? [] : [toCheck(single, `${field}.check`)]),
    ...((many as unknown[] | undefined) ?? []).map((c, i) => toCheck(c, `${field}.checks[${i}]`)),
  ]
  if (checks.length > 0) registration.checks = checks
  return registration
}

/**
 * The service definitions of one config-dir file: `{"service": {…}}`, `{"services": […]}`,
 * or both; other top-level keys (agent settings Consul keeps in the same files) are refused,
 * so a typo does not silently register nothing.
 */
export function parseServiceFile(file: string, text: string): ServiceDefinition[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ValidationError(file, `not valid JSON: ${(err as Error).message}`)
  }
  if (!isObject(parsed)) throw new ValidationError(file, 'must be a JSON object')
  for (const key of Object.keys(parsed)) {
    if (fold(key) !== 'service' && fold(key) !== 'services') {
      throw new ValidationError(`${file}: ${key}`, 'unknown key; expected "service" or "services"')
    }
  }
  const one = pick(parsed, 'service')
  const many = pick(parsed, 'services')
  if (many !== undefined && !Array.isArray(many)) {
    throw new ValidationError(`${file}: services`, 'must be an array')
  }
  const blocks = [
    ...(one === undefined ? [] : [[one, 'service'] as const]),
    ...((many as unknown[] | undefined) ?? []).map((s, i) => [s, `services[${i}]`] as const),
  ]
  return blocks.map(([block, field]) => ({
    file,
    registration: toRegistration(block, `${file}: ${field}`),
  }))
}
