import type { ServiceInstance } from '@grapevine/core'
import { list, renderTable } from './table.js'

function distinct(values: Iterable<string>): string[] {
  return [...new Set(values)].filter((v) => v !== '').sort()
}

/** `grapevine services`: one row per service with instance counts by health. */
export function formatServices(
  services: Readonly<Record<string, readonly ServiceInstance[]>>,
): string {
  const names = Object.keys(services).sort()
  if (names.length === 0) return 'No services registered.'
  const rows = names.map((name) => {
    const instances = services[name] ?? []
    const count = (status: string) => instances.filter((i) => i.status === status).length
    return [
      name,
      String(instances.length),
      String(count('passing')),
      String(count('warning')),
      String(count('critical')),
      list(distinct(instances.map((i) => i.version))),
      list(distinct(instances.flatMap((i) => i.tags))),
    ]
  })
  return renderTable(
    ['SERVICE', 'INSTANCES', 'PASSING', 'WARNING', 'CRITICAL', 'VERSIONS', 'TAGS'],
    rows,
  )
}
