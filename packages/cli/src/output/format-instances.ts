import type { ServiceInstance } from '@grapevine/core'
import { list, pairs, renderTable, shortId } from './table.js'

/**
 * `grapevine service NAME` and the watch view: one row per instance. When any instance has
 * checks, a CHECKS column shows each check's state as its owner replicated it (`id:status`),
 * so every agent shows the same for every instance.
 */
export function formatInstances(name: string, instances: readonly ServiceInstance[]): string {
  if (instances.length === 0) return `No instances of ${name}.`
  const headers = ['ID', 'VERSION', 'STATUS', 'ENDPOINTS', 'TAGS', 'METADATA', 'NODE']
  const rows = instances.map((i) => [
    i.id,
    i.version || '-',
    i.status,
    list(i.endpoints),
    list(i.tags),
    pairs(i.metadata),
    shortId(i.node),
  ])
  if (!instances.some((i) => (i.checks?.length ?? 0) > 0)) return renderTable(headers, rows)
  const withChecks = rows.map((row, n) => {
    const checks = instances[n]!.checks ?? []
    return [...row, checks.length === 0 ? '-' : list(checks.map((c) => `${c.id}:${c.status}`))]
  })
  return renderTable([...headers, 'CHECKS'], withChecks)
}
