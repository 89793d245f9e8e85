import type { ServiceInstance } from '@grapevine/core'
import { list, pairs, renderTable, shortId } from './table.js'

/** `grapevine service NAME` and the watch view: one row per instance. */
export function formatInstances(name: string, instances: readonly ServiceInstance[]): string {
  if (instances.length === 0) return `No instances of ${name}.`
  const rows = instances.map((i) => [
    i.id,
    i.version || '-',
    i.status,
    list(i.endpoints),
    list(i.tags),
    pairs(i.metadata),
    shortId(i.node),
  ])
  return renderTable(['ID', 'VERSION', 'STATUS', 'ENDPOINTS', 'TAGS', 'METADATA', 'NODE'], rows)
}
