import { DecodeError } from './errors.js'

/**
 * The field checks every wire decoder shares (`schema.ts` for records and sync, `swim-wire.ts`
 * for membership). Input is hostile: each check throws `DecodeError` with reason `schema`.
 */

export type Fields = Record<string, unknown>

/**
 * Node ids on the wire are libp2p peer ids (base58btc or base32 multihashes): alphanumeric.
 * Holding origins to that keeps ids like `__proto__` out of the maps they index.
 */
export const ORIGIN_PATTERN = /^[A-Za-z0-9]+$/

export function schema(message: string): DecodeError {
  return new DecodeError('schema', message)
}

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function integer(fields: Fields, name: string, min: number): number {
  const value = fields[name]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw schema(`${name} must be an integer ≥ ${min}`)
  }
  return value
}

export function list(fields: Fields, name: string, maxItems: number): unknown[] {
  const value = fields[name]
  if (!Array.isArray(value) || value.length > maxItems) {
    throw schema(`${name} must be an array of at most ${maxItems} items`)
  }
  return value
}
