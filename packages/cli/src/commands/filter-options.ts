import { ValidationError } from '@grapevine/core'
import type { Command } from 'commander'
import type { ClientServiceQuery } from '../client/agent-client.js'
import { collect, parsePairs } from './client-options.js'

/** Filters of `service` and `watch`, the same as the HTTP API's query parameters. */
export interface FilterFlags {
  tag?: string[]
  version?: string
  meta?: string[]
  all?: boolean
  passing?: boolean
}

export function addFilterOptions(command: Command): Command {
  return command
    .option('--tag <tag>', 'only instances with this tag (repeatable: all must match)', collect)
    .option('--version <version>', 'only instances of this exact version')
    .option('--meta <key=value>', 'only instances with this metadata pair (repeatable)', collect)
    .option('--all', 'include critical (failing) instances')
    .option('--passing', 'only passing instances (no warning, no critical)')
}

export function toServiceQuery(flags: FilterFlags): ClientServiceQuery {
  if (flags.all && flags.passing) {
    throw new ValidationError('passing', '--passing and --all exclude each other')
  }
  const query: ClientServiceQuery = {}
  if (flags.tag !== undefined) query.tags = flags.tag
  if (flags.version !== undefined) query.version = flags.version
  if (flags.meta !== undefined) query.metadata = parsePairs(flags.meta, 'meta')
  if (flags.all) query.includeCritical = true
  if (flags.passing) query.passing = true
  return query
}
