import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatLocalInstances } from '../output/format-local-instances.js'
import { formatJson } from '../output/json.js'
import { addClientOptions, type ClientFlags, clientFor, println } from './client-options.js'

export function instancesCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('instances')
      .summary("list this agent's own instances and their checks")
      .description(
        'List the instances registered on the local agent (healthy or not) with the state and latest output of each health check. Use it to find check ids for `grapevine ttl`.',
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine instances
  $ grapevine instances --json | jq '.[].checks'`,
    )
    .action(async (flags: ClientFlags) => {
      const instances = await clientFor(io, flags).instances()
      println(io, flags.json ? formatJson(instances) : formatLocalInstances(instances))
    })
}
