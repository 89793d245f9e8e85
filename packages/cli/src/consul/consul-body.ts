import { ValidationError } from '@grapevine/core'

/** A JSON object as Consul decodes it: keys matched case-insensitively. */
export type ConsulObject = Readonly<Record<string, unknown>>

/**
 * `Name`, `name`, `NAME` and `deregister_critical_service_after` all find
 * `DeregisterCriticalServiceAfter`: Consul decodes bodies case-insensitively and also takes
 * the snake_case spelling of its config files, and clients send every one of these.
 */
function normalize(key: string): string {
  return key.replace(/_/g, '').toLowerCase()
}

/** Reads one field of a Consul object by its canonical name; undefined (and null) when absent. */
export function field(object: ConsulObject, name: string): unknown {
  const wanted = normalize(name)
  for (const key of Object.keys(object)) {
    if (normalize(key) === wanted) {
      const value = object[key]
      return value === null ? undefined : value
    }
  }
  return undefined
}

export function isObject(value: unknown): value is ConsulObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function asObject(value: unknown, path: string): ConsulObject | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) throw new ValidationError(path, 'must be a JSON object')
  return value
}

export function asString(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new ValidationError(path, 'must be a string')
  return value
}

export function asStrings(value: unknown, path: string): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ValidationError(path, 'must be an array of strings')
  }
  return value as string[]
}

export function asInteger(value: unknown, path: string, min: number, max: number) {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(path, `must be a whole number from ${min} to ${max}`)
  }
  return value
}

export function asBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw new ValidationError(path, 'must be true or false')
  return value
}

/**
 * A Consul duration: a Go duration string (`"10s"`, `"1m30s"`), or a number, which Consul's
 * decoder reads as nanoseconds (Go's `time.Duration`). Returned as a duration string in ms.
 */
export function asDuration(value: unknown, path: string): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new ValidationError(path, 'must be a non-negative duration')
    }
    return `${Math.round(value / 1e6)}ms`
  }
  if (typeof value !== 'string') {
    throw new ValidationError(path, 'must be a duration string such as "10s"')
  }
  return value
}
