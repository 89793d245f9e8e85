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
          "Show the instances of one service from the local replica: id, version, health, endpoints, tags, metadata, owning node, and each health check's id and status (with --json also its name and the start of its output) as the owning node replicates them. Checks run on the owning node; `grapevine instances` there shows their full state.",
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
      const { instances } = await clientFor(io, flags).service(name, toServiceQuery(flags))
      println(io, flags.json ? formatJson(instances) : formatInstances(name, instances))
    })
}
