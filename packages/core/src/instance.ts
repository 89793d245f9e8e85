import { parseEndpoint } from './endpoint.js'
import { ValidationError } from './errors.js'

/** Health as reported by the owning agent's checks; instances without checks are `passing`. */
export type HealthStatus = 'passing' | 'warning' | 'critical'
export const HEALTH_STATUSES: readonly HealthStatus[] = ['passing', 'warning', 'critical']

/**
 * One running copy of a service, in the go-kratos shape. `status` and `node` are set by the
 * agent that owns the instance: `node` is its peer id, `status` comes from its health checks.
 * Instances handed out by queries are frozen and shared; never mutate them.
 */
export interface ServiceInstance {
  readonly id: string
  readonly name: string
  readonly version: string
  readonly metadata: Readonly<Record<string, string>>
  readonly endpoints: readonly string[]
  readonly tags: readonly string[]
  readonly status: HealthStatus
  readonly node: string
  /**
   * The state of each of the owner's health checks, as it last replicated them: what `status`
   * is the worst of. Absent when the instance has no checks. The definitions (URLs, intervals,
   * headers) never leave the owner; only these summaries travel, signed with the claim.
   */
  readonly checks?: readonly InstanceCheck[]
}

/**
 * One health check of an instance as every node sees it: its id and name, the status it
 * reports (after thresholds), and the start of its latest output (at most
 * `LIMITS.checkOutputLength` characters; the owner keeps the rest).
 */
export interface InstanceCheck {
  readonly id: string
  readonly name: string
  readonly status: HealthStatus
  readonly output: string
}

/** What a caller passes to `register`. Only `name` is required; `id` is generated when absent. */
export interface Registration {
  id?: string
  name: string
  version?: string
  metadata?: Record<string, string>
  endpoints?: string[]
  tags?: string[]
  status?: HealthStatus
}

/** Named limits: part of the wire contract, so raise them only with a protocol version bump. */
export const LIMITS = {
  nameLength: 128,
  idLength: 128,
  versionLength: 64,
  metadataPairs: 64,
  metadataKeyLength: 128,
  metadataValueLength: 512,
  metadataBytes: 8 * 1024,
  endpoints: 16,
  endpointLength: 256,
  tags: 32,
  tagLength: 64,
  /** Check summaries per instance (the agent allows 16 checks per instance). */
  checks: 16,
  checkIdLength: 128,
  checkNameLength: 128,
  /**
   * Characters of each check's output that replicate. Consul keeps 4 KiB on its servers; here
   * every node holds every instance, so 16 checks stay under 8 KiB per instance and one DELTA
   * (64 KiB) always holds the largest instance.
   */
  checkOutputLength: 256,
} as const

// Names double as DNS labels and URL path segments (HTTP API, `grapevine:///NAME`), so they
// stay in the DNS-ish charset; ids also appear in URL paths, so no slash or whitespace.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const ID_PATTERN = /^[A-Za-z0-9._:@-]+$/
const TAG_PATTERN = /^[^\s,]+$/
const METADATA_KEY_PATTERN = /^[A-Za-z0-9._/-]+$/

/** The fields a registration may carry; anything else is refused, naming the field. */
export const REGISTRATION_FIELDS: readonly string[] = [
  'id',
  'name',
  'version',
  'metadata',
  'endpoints',
  'tags',
  'status',
]

/**
 * Keys that name Object.prototype's internals. As a key of a plain object, `__proto__` sets the
 * prototype instead of a property (the value vanishes); the others shadow what code reading the
 * object may expect. They are refused wherever a caller's string becomes an object key.
 */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
])

/**
 * A lone UTF-16 surrogate is not Unicode: encoders replace it (U+FFFD), so the bytes a peer
 * receives would differ from what this node stores. With the `u` flag, `\p{Cs}` matches only
 * unpaired surrogates (pairs are read as one astral code point).
 */
const LONE_SURROGATE = /\p{Cs}/u
const LONE_SURROGATES = /\p{Cs}/gu

/**
 * True if `checkString` accepts `value` as it is. Validation runs on every claim a node
 * receives (a 100k join checks a million strings), and the field names of its errors cost an
 * allocation each: hot paths ask this first and build the name only for `checkString` to throw.
 */
function plainString(value: unknown, max: number, pattern?: RegExp): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= max &&
    (pattern === undefined || pattern.test(value)) &&
    !LONE_SURROGATE.test(value)
  )
}

/** Throws unless `value` is well-formed Unicode. */
export function checkWellFormed(field: string, value: string): string {
  if (LONE_SURROGATE.test(value)) {
    throw new ValidationError(field, 'must be well-formed Unicode (it holds a lone surrogate)')
  }
  return value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function checkString(field: string, value: unknown, max: number, pattern?: RegExp): string {
  if (value === undefined) throw new ValidationError(field, 'is required')
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string')
  if (value.length === 0) throw new ValidationError(field, 'must not be empty')
  if (value.length > max) throw new ValidationError(field, `must be at most ${max} characters`)
  if (pattern !== undefined && !pattern.test(value)) {
    throw new ValidationError(field, `must match ${pattern}`)
  }
  return checkWellFormed(field, value)
}

/** Names and ids appear in URL paths, where `.` and `..` are normalised away by clients. */
function checkAddressable(field: string, value: string): string {
  if (value === '.' || value === '..') {
    throw new ValidationError(field, `"${value}" cannot be used in a URL path; choose another`)
  }
  if (value === '__proto__') throw new ValidationError(field, 'must not be "__proto__"')
  return value
}

export function validateName(value: unknown, field = 'name'): string {
  return checkAddressable(field, checkString(field, value, LIMITS.nameLength, NAME_PATTERN))
}

/**
 * A node's name for people (`--node-name`): the service-name charset, so it is a DNS label
 * (`NAME.node.grapevine.`) and a URL path segment too.
 */
export function validateNodeName(value: unknown, field = 'nodeName'): string {
  return checkString(field, value, LIMITS.nameLength, NAME_PATTERN)
}

export function validateId(value: unknown, field = 'id'): string {
  return checkAddressable(field, checkString(field, value, LIMITS.idLength, ID_PATTERN))
}

/** A metadata key, as stored or as asked for in a query (`?meta=key:value`). */
export function validateMetadataKey(key: unknown, field = `metadata key "${String(key)}"`): string {
  const checked = checkString(field, key, LIMITS.metadataKeyLength, METADATA_KEY_PATTERN)
  if (PROTOTYPE_KEYS.has(checked)) throw new ValidationError(field, 'is a reserved name')
  return checked
}

function validateVersion(value: unknown): string {
  if (value === undefined) return ''
  if (typeof value !== 'string') throw new ValidationError('version', 'must be a string')
  if (value.length > LIMITS.versionLength) {
    throw new ValidationError('version', `must be at most ${LIMITS.versionLength} characters`)
  }
  return checkWellFormed('version', value)
}

function validateMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {}
  if (!isPlainObject(value)) throw new ValidationError('metadata', 'must be an object of strings')
  const keys = Object.keys(value)
  if (keys.length > LIMITS.metadataPairs) {
    throw new ValidationError('metadata', `must have at most ${LIMITS.metadataPairs} pairs`)
  }
  let bytes = 0
  const out: Record<string, string> = {}
  for (const key of keys) {
    if (
      !plainString(key, LIMITS.metadataKeyLength, METADATA_KEY_PATTERN) ||
      PROTOTYPE_KEYS.has(key)
    )
      validateMetadataKey(key)
    const v = value[key]
    if (typeof v !== 'string') throw new ValidationError(`metadata.${key}`, 'must be a string')
    if (v.length > LIMITS.metadataValueLength) {
      throw new ValidationError(
        `metadata.${key}`,
        `must be at most ${LIMITS.metadataValueLength} characters`,
      )
    }
    if (LONE_SURROGATE.test(v)) checkWellFormed(`metadata.${key}`, v)
    bytes += key.length + v.length
    out[key] = v
  }
  if (bytes > LIMITS.metadataBytes) {
    throw new ValidationError('metadata', `must total at most ${LIMITS.metadataBytes} characters`)
  }
  return out
}

/** `check` validates an item and names it in its error; `plain` accepts one without a name. */
function validateList(
  field: string,
  value: unknown,
  maxItems: number,
  check: (item: unknown, itemField: string) => string,
  plain: (item: unknown) => item is string,
): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of strings')
  if (value.length > maxItems)
    throw new ValidationError(field, `must have at most ${maxItems} items`)
  return value.map((item, i) => (plain(item) ? item : check(item, `${field}[${i}]`)))
}

const plainTag = (item: unknown): item is string => plainString(item, LIMITS.tagLength, TAG_PATTERN)

function plainEndpoint(item: unknown): item is string {
  if (!plainString(item, LIMITS.endpointLength)) return false
  try {
    parseEndpoint(item)
    return true
  } catch {
    return false
  }
}

function validateEndpoint(item: unknown, field: string): string {
  const url = checkString(field, item, LIMITS.endpointLength)
  try {
    parseEndpoint(url)
  } catch (err) {
    throw new ValidationError(field, (err as Error).message)
  }
  return url
}

function validateStatus(value: unknown, field = 'status'): HealthStatus {
  if (value === undefined) return 'passing'
  // The constant, not the caller's copy: a decoded claim brings its own string, and 100k
  // stored instances kept 100k equal strings alive.
  const status = typeof value === 'string' ? HEALTH_STATUSES.find((s) => s === value) : undefined
  if (status === undefined) {
    throw new ValidationError(field, `must be one of ${HEALTH_STATUSES.join(', ')}`)
  }
  return status
}

/**
 * Refuses the first field of `input` that is neither a registration field nor one of `extra`
 * (fields the caller validates itself, such as the agent's `checks`). A field that differs from
 * a known one only in case (Consul's `Name`, `ID`) gets a hint at the right spelling.
 */
function checkKnownFields(input: Record<string, unknown>, extra: readonly string[]): void {
  for (const key of Object.keys(input)) {
    if (REGISTRATION_FIELDS.includes(key) || extra.includes(key)) continue
    const lower = key.toLowerCase()
    const meant = [...REGISTRATION_FIELDS, ...extra].find((known) => known.toLowerCase() === lower)
    const hint = meant === undefined ? '' : `; did you mean "${meant}"?`
    throw new ValidationError(
      key,
      `unknown field${hint} (a registration has ${[...REGISTRATION_FIELDS, ...extra].join(', ')})`,
    )
  }
}

/**
 * Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair, and replaces
 * lone surrogates (a TTL note may hold one): what a check summary may carry.
 */
export function truncateText(text: string, max: number): string {
  let cut = text.length <= max ? text : text.slice(0, max)
  const last = cut.charCodeAt(cut.length - 1)
  if (cut.length < text.length && last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1)
  return cut.replace(LONE_SURROGATES, '\uFFFD')
}

const CHECK_FIELDS = ['id', 'name', 'status', 'output']

function validateCheck(value: unknown, field: string): InstanceCheck {
  if (!isPlainObject(value)) throw new ValidationError(field, 'must be an object')
  for (const key of Object.keys(value)) {
    if (!CHECK_FIELDS.includes(key)) throw new ValidationError(`${field}.${key}`, 'unknown field')
  }
  const output = value.output
  if (typeof output !== 'string') throw new ValidationError(`${field}.output`, 'must be a string')
  if (output.length > LIMITS.checkOutputLength) {
    throw new ValidationError(
      `${field}.output`,
      `must be at most ${LIMITS.checkOutputLength} characters`,
    )
  }
  return Object.freeze({
    id: checkAddressable(
      `${field}.id`,
      checkString(`${field}.id`, value.id, LIMITS.checkIdLength, ID_PATTERN),
    ),
    name: checkString(`${field}.name`, value.name, LIMITS.checkNameLength),
    status: validateStatus(value.status ?? '', `${field}.status`),
    output: checkWellFormed(`${field}.output`, output),
  })
}

/**
 * Validates an instance's check summaries (strictly: they are signed, so nothing is dropped).
 * Ids are unique. An empty list is no list: undefined.
 */
export function validateInstanceChecks(
  value: unknown,
  field = 'checks',
): readonly InstanceCheck[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of checks')
  if (value.length > LIMITS.checks) {
    throw new ValidationError(field, `must have at most ${LIMITS.checks} checks`)
  }
  if (value.length === 0) return undefined
  const checks = value.map((item, i) => validateCheck(item, `${field}[${i}]`))
  const ids = new Set(checks.map((check) => check.id))
  if (ids.size !== checks.length) throw new ValidationError(field, 'check ids must be unique')
  return Object.freeze(checks)
}

function buildInstance(
  input: Record<string, unknown>,
  node: string,
  generateId: () => string,
  checks?: readonly InstanceCheck[],
): ServiceInstance {
  const name = validateName(input.name)
  const id = input.id === undefined ? generateId() : validateId(input.id)
  return freezeInstance({
    id,
    name,
    version: validateVersion(input.version),
    metadata: validateMetadata(input.metadata),
    endpoints: validateList(
      'endpoints',
      input.endpoints,
      LIMITS.endpoints,
      validateEndpoint,
      plainEndpoint,
    ),
    tags: validateList(
      'tags',
      input.tags,
      LIMITS.tags,
      (item, field) => checkString(field, item, LIMITS.tagLength, TAG_PATTERN),
      plainTag,
    ),
    status: validateStatus(input.status),
    node,
    ...(checks !== undefined && { checks }),
  })
}

/**
 * Checks a caller's registration and returns the instance this node will claim: defaults
 * filled in, frozen. A field that is not a registration field (nor one of `extraFields`, which
 * the caller checks itself) is refused, so nothing unvalidated is ever stored or sent. Throws
 * `ValidationError` naming the first bad field.
 */
export function validateRegistration(
  input: unknown,
  node: string,
  generateId: () => string,
  extraFields: readonly string[] = [],
): ServiceInstance {
  if (!isPlainObject(input)) throw new ValidationError('registration', 'must be an object')
  checkKnownFields(input, extraFields)
  return buildInstance(input, node, generateId)
}

/**
 * Validates a complete instance, such as one received from the network. Unknown fields are
 * dropped rather than refused: a peer running a newer version may send more.
 */
export function validateInstance(input: unknown): ServiceInstance {
  if (!isPlainObject(input)) throw new ValidationError('instance', 'must be an object')
  const node = checkString('node', input.node, 256)
  const id = validateId(input.id)
  return buildInstance(input, node, () => id, validateInstanceChecks(input.checks))
}

function freezeInstance(instance: ServiceInstance): ServiceInstance {
  Object.freeze(instance.metadata)
  Object.freeze(instance.endpoints)
  Object.freeze(instance.tags)
  return Object.freeze(instance)
}

/** A one-line description for logs: `user-service/abc@v1 [grpc://…] on 12D3…`. */
export function instanceToString(instance: ServiceInstance): string {
  const version = instance.version ? `@${instance.version}` : ''
  return `${instance.name}/${instance.id}${version} [${instance.endpoints.join(', ')}] ${instance.status} on ${instance.node}`
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

const NO_CHECKS: readonly InstanceCheck[] = Object.freeze([])

/** Check summaries equal in order; absent and empty are the same. */
export function checksEqual(
  a: readonly InstanceCheck[] = NO_CHECKS,
  b: readonly InstanceCheck[] = NO_CHECKS,
): boolean {
  if (a === b) return true
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i]!
      return x.id === y.id && x.name === y.name && x.status === y.status && x.output === y.output
    })
  )
}

/** Field-by-field equality (metadata compared as a map, lists in order). */
export function instancesEqual(a: ServiceInstance, b: ServiceInstance): boolean {
  if (a === b) return true
  if (
    a.id !== b.id ||
    a.name !== b.name ||
    a.version !== b.version ||
    a.status !== b.status ||
    a.node !== b.node ||
    !sameList(a.endpoints, b.endpoints) ||
    !sameList(a.tags, b.tags) ||
    !checksEqual(a.checks, b.checks)
  ) {
    return false
  }
  const keys = Object.keys(a.metadata)
  if (keys.length !== Object.keys(b.metadata).length) return false
  return keys.every((k) => a.metadata[k] === b.metadata[k])
}
