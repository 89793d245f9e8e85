import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatInstances } from '../output/format-instances.js'
import { formatJson } from '../output/json.js'
import { addClientOptions, type ClientFlags, clientFor, println } from './client-options.js'
import { addFilterOptions, type FilterFlags, toServiceQuery } from './filter-options.js'

export function serviceCommand(program: Command, io: CliIo): void {
  addClientOptions(
    addFilterOptions(
      program
        .command('service')
        .summary('show the instances of one service')
        .argument('<name>', 'service name')
        .description(
          'Show the instances of one service from the local replica: id, version, health, endpoints, tags, metadata and owning node, and for instances of this agent the state of each health check (checks run on the owning node; ask that node for their details).',
        ),
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine service user-service
  $ grapevine service user-service --tag edge --meta zone=a --version v1.2.0
  $ grapevine service user-service --json | jq -r '.[].endpoints[0]'`,
    )
    .action(async (name: string, flags: ClientFlags & FilterFlags) => {
      const client = clientFor(io, flags)
      const [{ instances }, local] = await Promise.all([
        client.service(name, toServiceQuery(flags)),
        client.instances(),
      ])
      // This agent's own instances carry their checks (checks run on the owner only).
      const localById = new Map(local.map((own) => [own.id, own]))
      const checks = new Map(
        instances.flatMap((i) => {
          const own = localById.get(i.id)
          return own !== undefined && own.node === i.node ? [[i.id, own.checks] as const] : []
        }),
      )
      const shown = instances.map((i) => {
        const own = checks.get(i.id)
        return own === undefined ? i : { ...i, checks: own }
      })
      println(io, flags.json ? formatJson(shown) : formatInstances(name, instances, checks))
    })
}
