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
  /**
   * The origin's signature over `claimSigningBytes` (see signing.ts). Set by a networked
   * writer; a replica that relays the claim passes it on so that receivers can check it.
   */
  readonly sig?: Uint8Array
}

export const MAX_VECTOR_ENTRIES = 256
/**
 * Largest vector counter. A counter counts one node's writes to one id, so 2^32 is never
 * reached by honest use; the cap keeps a poisoned vector (2^53 − 1) from making the next
 * write's counter an unsafe integer. Writers saturate at it (see `incrementVector`).
 */
export const MAX_VECTOR_COUNTER = 2 ** 32
/** Longest node id: libp2p peer ids are 52 (base58) to 62 (base32) characters. */
export const MAX_NODE_ID_LENGTH = 96
/**
 * Node ids (claim origins and vector keys) are peer-id shaped: alphanumeric, which also keeps
 * keys like `__proto__` out of the maps they index.
 */
export const NODE_ID_PATTERN = /^[A-Za-z0-9]+$/
/** Longest signature accepted on a claim (Ed25519: 64 bytes). */
export const MAX_CLAIM_SIGNATURE_BYTES = 128

/**
 * The last node id `isNodeId` accepted. Every claim of a sync part or DELTA names the same
 * origin, and its vector the same few keys: the pattern ran twice per received claim (a tenth
 * of validating one), for the same string. A string equal to an accepted one is accepted.
 */
let lastNodeId: string | undefined

/** True if `value` is a node id: alphanumeric, 1 to `MAX_NODE_ID_LENGTH` characters. */
export function isNodeId(value: unknown): value is string {
  if (typeof value !== 'string') return false
  if (value === lastNodeId) return true
  if (value.length === 0 || value.length > MAX_NODE_ID_LENGTH || !NODE_ID_PATTERN.test(value)) {
    return false
  }
  lastNodeId = value
  return true
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function positiveInteger(field: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ValidationError(field, `must be a ${allowZero ? 'non-negative' : 'positive'} integer`)
  }
  return value
}

/**
 * The last one-entry vector validated, shared by every claim with an equal one (frozen, so
 * sharing is safe): a node's first write of each id has `{node: 1}`, and a 100k join stored
 * 100k copies of it.
 */
let lastSingle: { key: string; counter: number; vector: VersionVector } | undefined

function validateVector(value: unknown): VersionVector {
  if (!isRecord(value)) throw new ValidationError('claim.vv', 'must be an object')
  const keys = Object.keys(value)
  if (keys.length === 0 || keys.length > MAX_VECTOR_ENTRIES) {
    throw new ValidationError('claim.vv', `must have 1 to ${MAX_VECTOR_ENTRIES} entries`)
  }
  if (keys.length === 1 && lastSingle !== undefined) {
    const only = keys[0]!
    if (only === lastSingle.key && value[only] === lastSingle.counter) return lastSingle.vector
  }
  const out: Record<string, number> = {}
  for (const key of keys) {
    if (!isNodeId(key)) {
      throw new ValidationError(
        'claim.vv',
        `keys must be node ids (alphanumeric, at most ${MAX_NODE_ID_LENGTH} characters)`,
      )
    }
    const raw = value[key]
    // The field's name is built only when the value is bad (this runs for every claim received).
    const counter =
      typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 1
        ? raw
        : positiveInteger(`claim.vv.${key}`, raw)
    if (counter > MAX_VECTOR_COUNTER) {
      throw new ValidationError(`claim.vv.${key}`, `must be at most ${MAX_VECTOR_COUNTER}`)
    }
    out[key] = counter
  }
  const vector = Object.freeze(out)
  if (keys.length === 1) lastSingle = { key: keys[0]!, counter: vector[keys[0]!]!, vector }
  return vector
}

/**
 * Validates a claim received from the network (or a test). The claim must be internally
 * consistent: a live instance is owned by the claim's origin and has the claim's id, and the
 * vector counts a write by the origin.
 */
export function validateClaim(value: unknown): Claim {
  if (!isRecord(value)) throw new ValidationError('claim', 'must be an object')
  if (!isNodeId(value.origin)) {
    throw new ValidationError(
      'claim.origin',
      `must be a node id (alphanumeric, at most ${MAX_NODE_ID_LENGTH} characters)`,
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
  const sig = value.sig
  if (sig === undefined || sig === null)
    return Object.freeze({ origin, gen, seq, id, vv, instance })
  if (
    !(sig instanceof Uint8Array) ||
    sig.byteLength === 0 ||
    sig.byteLength > MAX_CLAIM_SIGNATURE_BYTES
  ) {
    throw new ValidationError('claim.sig', `must be 1 to ${MAX_CLAIM_SIGNATURE_BYTES} bytes`)
  }
  return Object.freeze({ origin, gen, seq, id, vv, instance, sig })
}

/**
 * A cheap upper-bound estimate of a claim's encoded size, used to cut sync replies and
 * DELTA batches at a byte budget without encoding twice. Strings count one byte per UTF-16
 * unit plus a header; the estimate only has to be monotone and not far below msgpack's size.
 *
 * Indexed loops, not `for…of`: a claim's arrays are frozen, and V8 does not inline iteration
 * over frozen arrays, so every step allocated an iterator result. A holder serving a 100k join
 * estimates every claim in every reply: ~20 MB of garbage a join, which grew the young
 * generation and, with it, the holder's full GCs during joins.
 */
export function estimateClaimBytes(claim: Claim): number {
  let bytes = 48 + claim.origin.length + claim.id.length + (claim.sig?.byteLength ?? 0)
  for (const node in claim.vv) bytes += node.length + 12
  const instance = claim.instance
  if (instance === null) return bytes
  bytes += 64 + instance.id.length + instance.name.length + instance.version.length
  bytes += instance.node.length
  const { endpoints, tags, metadata, checks } = instance
  for (let i = 0; i < endpoints.length; i++) bytes += endpoints[i]!.length + 3
  for (let i = 0; i < tags.length; i++) bytes += tags[i]!.length + 3
  for (const key in metadata) bytes += key.length + metadata[key]!.length + 6
  if (checks !== undefined) {
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i]!
      bytes += 40 + check.id.length + check.name.length + check.output.length
    }
  }
  return bytes
}
