import { ValidationError } from './errors.js'
import { type ServiceInstance, validateId, validateInstance } from './instance.js'
import type { VersionVector } from './version-vector.js'

/**
 * One node's record of one instance: key `(origin, id)`. Only the origin writes its claims,
 * so the dot `(origin, gen, seq)` orders a key's versions totally. `instance === null` is a
 * tombstone: the origin deregistered the id. `vv` is the version vector over every claim of
 * this id the origin had seen when it wrote, plus one for itself; it decides supersession
 * between claims of different origins.
 */
export interface Claim {
  readonly origin: string
  readonly gen: number
  readonly seq: number
  readonly id: string
  readonly vv: VersionVector
  readonly instance: ServiceInstance | null
}

export const MAX_VECTOR_ENTRIES = 256

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function positiveInteger(field: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ValidationError(field, `must be a ${allowZero ? 'non-negative' : 'positive'} integer`)
  }
  return value
}

function validateVector(value: unknown): VersionVector {
  if (!isRecord(value)) throw new ValidationError('claim.vv', 'must be an object')
  const keys = Object.keys(value)
  if (keys.length === 0 || keys.length > MAX_VECTOR_ENTRIES) {
    throw new ValidationError('claim.vv', `must have 1 to ${MAX_VECTOR_ENTRIES} entries`)
  }
  const out: Record<string, number> = {}
  for (const key of keys) out[key] = positiveInteger(`claim.vv.${key}`, value[key])
  return Object.freeze(out)
}

/**
 * Validates a claim received from the network (or a test). The claim must be internally
 * consistent: a live instance is owned by the claim's origin and has the claim's id, and the
 * vector counts a write by the origin.
 */
export function validateClaim(value: unknown): Claim {
  if (!isRecord(value)) throw new ValidationError('claim', 'must be an object')
  if (typeof value.origin !== 'string' || value.origin.length === 0 || value.origin.length > 256) {
    throw new ValidationError(
      'claim.origin',
      'must be a non-empty string of at most 256 characters',
    )
  }
  const origin = value.origin
  const gen = positiveInteger('claim.gen', value.gen)
  const seq = positiveInteger('claim.seq', value.seq)
  const id = validateId(value.id, 'claim.id')
  const vv = validateVector(value.vv)
  if (vv[origin] === undefined) throw new ValidationError('claim.vv', 'must count the origin')
  let instance: ServiceInstance | null = null
  if (value.instance !== null && value.instance !== undefined) {
    instance = validateInstance(value.instance)
    if (instance.id !== id) throw new ValidationError('claim.instance.id', 'must equal claim.id')
    if (instance.node !== origin) {
      throw new ValidationError('claim.instance.node', 'must equal claim.origin')
    }
  }
  return Object.freeze({ origin, gen, seq, id, vv, instance })
}

/**
 * A cheap upper-bound estimate of a claim's encoded size, used to cut sync replies and
 * DELTA batches at a byte budget without encoding twice. Strings count one byte per UTF-16
 * unit plus a header; the estimate only has to be monotone and not far below msgpack's size.
 */
export function estimateClaimBytes(claim: Claim): number {
  let bytes = 48 + claim.origin.length + claim.id.length
  for (const node in claim.vv) bytes += node.length + 12
  const instance = claim.instance
  if (instance === null) return bytes
  bytes += 64 + instance.id.length + instance.name.length + instance.version.length
  bytes += instance.node.length
  for (const url of instance.endpoints) bytes += url.length + 3
  for (const tag of instance.tags) bytes += tag.length + 3
  for (const key in instance.metadata) bytes += key.length + instance.metadata[key]!.length + 6
  return bytes
}
