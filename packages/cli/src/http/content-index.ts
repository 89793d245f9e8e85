import { createHash } from 'node:crypto'
import type { ServiceInstance } from '@grapevine/core'

/**
 * Instances in a canonical order (by id, then owning node), so that equal sets serialize
 * equally on every agent and output is stable.
 */
export function sortInstances(instances: readonly ServiceInstance[]): ServiceInstance[] {
  return [...instances].sort((a, b) =>
    a.id === b.id ? compare(a.node, b.node) : compare(a.id, b.id),
  )
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function canonical(instance: ServiceInstance): unknown[] {
  const metadata = Object.keys(instance.metadata)
    .sort()
    .map((key) => [key, instance.metadata[key]])
  return [
    instance.id,
    instance.name,
    instance.version,
    instance.status,
    instance.node,
    instance.endpoints,
    instance.tags,
    metadata,
  ]
}

/**
 * The blocking-query index of a result: a content hash, not a modification counter. A hash
 * needs no state, changes only when the answer does (a counter also moves for changes that a
 * filter hides), and is equal on every agent holding the same view, so a client may switch
 * agents without a spurious wake-up. It is the first 52 bits of a SHA-256 as a positive
 * integer (exact in a JSON number); 0 is never produced, so `index=0` always returns at once.
 */
export function contentIndex(
  groups: ReadonlyArray<readonly [string, readonly ServiceInstance[]]>,
): number {
  const hash = createHash('sha256')
  for (const [name, instances] of groups) {
    hash.update(JSON.stringify([name, sortInstances(instances).map(canonical)]))
    hash.update('\n')
  }
  const value = Number.parseInt(hash.digest('hex').slice(0, 13), 16)
  return value === 0 ? 1 : value
}
