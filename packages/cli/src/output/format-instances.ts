import type { ServiceInstance } from '@grapevine/core'
import type { CheckStatusView } from '../http/agent-extensions.js'
import { list, pairs, renderTable, shortId } from './table.js'

/**
 * `grapevine service NAME` and the watch view: one row per instance. With `checks` (the
 * asking agent's own instances and their checks), a CHECKS column shows each check's state;
 * checks run on the owning node only, so other nodes' instances show their status alone.
 */
export function formatInstances(
  name: string,
  instances: readonly ServiceInstance[],
  checks?: ReadonlyMap<string, readonly CheckStatusView[]>,
): string {
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
  if (checks === undefined) return renderTable(headers, rows)
  const withChecks = rows.map((row, n) => {
    const own = checks.get(instances[n]!.id)
    return [...row, own === undefined ? '-' : list(own.map((c) => `${c.id}:${c.status}`))]
  })
  return renderTable([...headers, 'CHECKS'], withChecks)
}
