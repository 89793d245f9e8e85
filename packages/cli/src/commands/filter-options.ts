import type { ServiceQuery } from '@grapevine/core'
import type { Command } from 'commander'
import { collect, parsePairs } from './client-options.js'

/** Filters of `service` and `watch`, the same as the HTTP API's query parameters. */
export interface FilterFlags {
  tag?: string[]
  version?: string
  meta?: string[]
  all?: boolean
}

export function addFilterOptions(command: Command): Command {
  return command
    .option('--tag <tag>', 'only instances with this tag (repeatable: all must match)', collect)
    .option('--version <version>', 'only instances of this exact version')
    .option('--meta <key=value>', 'only instances with this metadata pair (repeatable)', collect)
    .option('--all', 'include critical (failing) instances')
}

export function toServiceQuery(flags: FilterFlags): ServiceQuery {
  const query: ServiceQuery = {}
  if (flags.tag !== undefined) query.tags = flags.tag
  if (flags.version !== undefined) query.version = flags.version
  if (flags.meta !== undefined) query.metadata = parsePairs(flags.meta, 'meta')
  if (flags.all) query.includeCritical = true
  return query
}
