import type { CheckDefinitionInput } from '@grapevine/agent'
import { type HealthStatus, type Registration, ValidationError } from '@grapevine/core'
import { NotSupportedError } from '../errors.js'
import {
  asDuration,
  asInteger,
  asObject,
  asString,
  asStrings,
  type ConsulObject,
  field,
  isObject,
} from './consul-body.js'

/** A registration with the checks the networked agent runs (the native route's body shape). */
export type RegistrationWithChecks = Registration & { checks?: CheckDefinitionInput[] }

/** The tag carrying a version, as go-kratos' Consul registry writes and reads it. */
export const VERSION_TAG_PREFIX = 'version='

/** TaggedAddresses keys that Consul itself uses for plain addresses, not endpoint URLs. */
const CONSUL_ADDRESS_KEYS = new Set(['lan', 'lan_ipv4', 'lan_ipv6', 'wan', 'wan_ipv4', 'wan_ipv6'])

/**
 * A Consul service definition (`PUT /v1/agent/service/register`) as a Grapevine registration:
 *
 * - `ID` → id (Consul's default: the name), `Name` → name, `Tags` → tags, `Meta` → metadata.
 * - Endpoints: every `TaggedAddresses` entry whose `Address` is a URL (go-kratos registers its
 *   endpoints so), then `Address`:`Port` as `http://host:port` unless an endpoint already has
 *   that host and port. An empty `Address` means this agent's address, as in Consul.
 * - Version: from a `version=V` tag (go-kratos' convention); the tag stays a tag.
 * - `Weights.Passing` → metadata `weight` (what SRV answers and the weighted picker read).
 * - `Check` / `Checks`: HTTP, TCP and TTL checks, with Consul's ids (`service:<id>` for a lone
 *   check, `service:<id>:<n>` counted from 1 for several) unless `CheckID` is given.
 * - Connect (`Connect`, `Proxy`, `Kind` other than typical) answers 501; other fields are
 *   accepted and ignored (see docs/consul-compatibility.md).
 */
export function decodeServiceDefinition(
  body: unknown,
  agentAddress: string,
): RegistrationWithChecks {
  if (!isObject(body))
    throw new ValidationError('body', 'must be a JSON object (a service definition)')
  const name = asString(field(body, 'Name'), 'Name')
  if (name === undefined || name === '') throw new ValidationError('Name', 'is required')
  const id = asString(field(body, 'ID'), 'ID') || name
  const kind = asString(field(body, 'Kind'), 'Kind')
  if (
    (kind !== undefined && kind !== '' && kind !== 'typical') ||
    field(body, 'Connect') !== undefined ||
    field(body, 'Proxy') !== undefined
  ) {
    throw new NotSupportedError('Consul Connect (service mesh: Connect, Proxy, Kind)')
  }
  const tags = asStrings(field(body, 'Tags'), 'Tags') ?? []
  const metadata: Record<string, string> = {}
  const meta = asObject(field(body, 'Meta'), 'Meta')
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (typeof value !== 'string') throw new ValidationError(`Meta.${key}`, 'must be a string')
    metadata[key] = value
  }
  const weights = asObject(field(body, 'Weights'), 'Weights')
  const passingWeight =
    weights && asInteger(field(weights, 'Passing'), 'Weights.Passing', 0, 65_535)
  if (passingWeight !== undefined && passingWeight > 0 && metadata.weight === undefined) {
    metadata.weight = String(passingWeight)
  }

  const endpoints: string[] = []
  const tagged = asObject(field(body, 'TaggedAddresses'), 'TaggedAddresses') ?? {}
  for (const key of Object.keys(tagged).sort()) {
    if (CONSUL_ADDRESS_KEYS.has(key.toLowerCase())) continue
    const entry = asObject(tagged[key], `TaggedAddresses.${key}`)
    const address = entry && asString(field(entry, 'Address'), `TaggedAddresses.${key}.Address`)
    if (address !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(address)) endpoints.push(address)
  }
  const port = asInteger(field(body, 'Port'), 'Port', 0, 65_535)
  const address = asString(field(body, 'Address'), 'Address')
  if (port !== undefined && port > 0) {
    const host = address === undefined || address === '' ? agentAddress : address
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    const sameHostPort = endpoints.some((endpoint) => {
      try {
        const parsed = new URL(endpoint)
        return parsed.hostname.replace(/^\[|\]$/g, '') === host && Number(parsed.port) === port
      } catch {
        return false
      }
    })
    if (!sameHostPort) endpoints.push(url)
  }

  const versionTag = tags.find((tag) => tag.startsWith(VERSION_TAG_PREFIX))
  const registration: RegistrationWithChecks = {
    id,
    name,
    tags,
    metadata,
    endpoints,
    ...(versionTag !== undefined && { version: versionTag.slice(VERSION_TAG_PREFIX.length) }),
  }
  const checks = decodeChecks(body, id)
  if (checks.length > 0) registration.checks = checks
  return registration
}

function decodeChecks(body: ConsulObject, serviceId: string): CheckDefinitionInput[] {
  const single = field(body, 'Check')
  const many = field(body, 'Checks')
  const list: Array<{ value: unknown; path: string }> = []
  if (single !== undefined) list.push({ value: single, path: 'Check' })
  if (many !== undefined) {
    if (!Array.isArray(many)) throw new ValidationError('Checks', 'must be an array of checks')
    for (const [i, value] of many.entries()) list.push({ value, path: `Checks[${i}]` })
  }
  return list.map(({ value, path }, i) =>
    decodeCheck(
      value,
      path,
      list.length === 1 ? `service:${serviceId}` : `service:${serviceId}:${i + 1}`,
    ),
  )
}

const UNSUPPORTED_CHECK_KINDS = [
  'GRPC',
  'H2PING',
  'Args',
  'Script',
  'DockerContainerID',
  'UDP',
  'AliasService',
  'AliasNode',
  'OSService',
]

function decodeCheck(value: unknown, path: string, defaultId: string): CheckDefinitionInput {
  const check = asObject(value, path)
  if (check === undefined) throw new ValidationError(path, 'must be a JSON object')
  const id =
    asString(field(check, 'CheckID'), `${path}.CheckID`) ||
    asString(field(check, 'ID'), `${path}.ID`) ||
    defaultId
  const name = asString(field(check, 'Name'), `${path}.Name`)
  const status = asString(field(check, 'Status'), `${path}.Status`)
  if (
    status !== undefined &&
    status !== '' &&
    !['passing', 'warning', 'critical'].includes(status)
  ) {
    throw new ValidationError(`${path}.Status`, 'must be passing, warning or critical')
  }
  const successes = asInteger(
    field(check, 'SuccessBeforePassing'),
    `${path}.SuccessBeforePassing`,
    0,
    1000,
  )
  const failures = asInteger(
    field(check, 'FailuresBeforeCritical'),
    `${path}.FailuresBeforeCritical`,
    0,
    1000,
  )
  const deregister = asDuration(
    field(check, 'DeregisterCriticalServiceAfter'),
    `${path}.DeregisterCriticalServiceAfter`,
  )
  const options = {
    id,
    ...(name !== undefined && name !== '' && { name }),
    ...(status !== undefined && status !== '' && { initialStatus: status as HealthStatus }),
    ...(successes !== undefined && { successesBeforePassing: successes }),
    ...(failures !== undefined && { failuresBeforeCritical: failures }),
    ...(deregister !== undefined && { deregisterCriticalAfter: deregister }),
  }
  const interval = () => {
    const text = asDuration(field(check, 'Interval'), `${path}.Interval`)
    if (text === undefined)
      throw new ValidationError(`${path}.Interval`, 'is required for HTTP and TCP checks')
    return text
  }
  const timeout = asDuration(field(check, 'Timeout'), `${path}.Timeout`)
  const http = asString(field(check, 'HTTP'), `${path}.HTTP`)
  if (http !== undefined && http !== '') {
    const method = asString(field(check, 'Method'), `${path}.Method`)
    const header = asObject(field(check, 'Header'), `${path}.Header`)
    const headers: Record<string, string> = {}
    for (const [key, values] of Object.entries(header ?? {})) {
      // Consul's Header is a map of lists; HTTP joins repeated values with commas.
      const list = asStrings(values, `${path}.Header.${key}`) ?? []
      headers[key] = list.join(', ')
    }
    return {
      kind: 'http',
      url: http,
      interval: interval(),
      ...(timeout !== undefined && { timeout }),
      ...(method !== undefined && method !== '' && { method }),
      ...(Object.keys(headers).length > 0 && { headers }),
      ...options,
    }
  }
  const tcp = asString(field(check, 'TCP'), `${path}.TCP`)
  if (tcp !== undefined && tcp !== '') {
    return {
      kind: 'tcp',
      address: tcp,
      interval: interval(),
      ...(timeout !== undefined && { timeout }),
      ...options,
    }
  }
  const ttl = asDuration(field(check, 'TTL'), `${path}.TTL`)
  if (ttl !== undefined) return { kind: 'ttl', ttl, ...options }
  const other = UNSUPPORTED_CHECK_KINDS.find((kind) => field(check, kind) !== undefined)
  if (other !== undefined) {
    throw new ValidationError(
      `${path}.${other}`,
      'this check kind is not supported; use HTTP, TCP or TTL',
    )
  }
  throw new ValidationError(path, 'needs HTTP, TCP or TTL')
}
