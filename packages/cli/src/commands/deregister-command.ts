import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatJson } from '../output/json.js'
import { addClientOptions, type ClientFlags, clientFor, println } from './client-options.js'

export function deregisterCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('deregister')
      .summary('remove an instance registered on the local agent')
      .argument('<id>', 'instance id, as `grapevine register` printed it')
      .description(
        'Remove an instance that the local agent registered. The cluster sees it deleted (cause "deregistered"); instances of other nodes are deregistered on their own agent.',
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine deregister web-1`,
    )
    .action(async (id: string, flags: ClientFlags) => {
      await clientFor(io, flags).deregister(id)
      println(io, flags.json ? formatJson({ id }) : `Deregistered ${id}`)
    })
}
