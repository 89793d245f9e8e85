import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatConflicts } from '../output/format-conflicts.js'
import { formatJson } from '../output/json.js'
import { addClientOptions, type ClientFlags, clientFor, println } from './client-options.js'

export function conflictsCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('conflicts')
      .summary('list instance ids claimed by several nodes')
      .description(
        'List instance ids that several live nodes claim at the same time, with the claim every node agrees to show. A conflict means two processes registered the same id: give each its own.',
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine conflicts
  $ grapevine conflicts --json`,
    )
    .action(async (flags: ClientFlags) => {
      const conflicts = await clientFor(io, flags).conflicts()
      println(io, flags.json ? formatJson(conflicts) : formatConflicts(conflicts))
    })
}
