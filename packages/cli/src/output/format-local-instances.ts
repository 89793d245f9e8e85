import type { LocalInstanceView } from '../api-types.js'
import { list, renderTable } from './table.js'

/** `grapevine instances`: this agent's own instances and the state of each check. */
export function formatLocalInstances(instances: readonly LocalInstanceView[]): string {
  if (instances.length === 0) return 'No instances registered on this agent.'
  const rows = instances.map((i) => [
    i.id,
    i.name,
    i.status,
    list(i.checks.map((c) => `${c.id}:${c.status}`)),
    list(i.endpoints),
  ])
  const outputs = instances.flatMap((i) =>
    i.checks
      .filter((c) => c.output !== undefined && c.output !== '')
      .map((c) => `  ${i.id}/${c.id}: ${c.output}`),
  )
  const table = renderTable(['ID', 'SERVICE', 'STATUS', 'CHECKS', 'ENDPOINTS'], rows)
  return outputs.length === 0 ? table : `${table}\n\nCheck output:\n${outputs.join('\n')}`
}
