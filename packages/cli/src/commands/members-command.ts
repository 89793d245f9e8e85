import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatMembers } from '../output/format-members.js'
import { formatJson } from '../output/json.js'
import { addClientOptions, type ClientFlags, clientFor, println } from './client-options.js'

export function membersCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('members')
      .summary('list cluster members and their state')
      .description(
        'List the cluster members the local agent knows, with their state (alive, suspect, dead, left), generation and when it last heard from each.',
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine members
  $ grapevine members --json | jq '.[] | select(.state != "alive")'`,
    )
    .action(async (flags: ClientFlags) => {
      const members = await clientFor(io, flags).members()
      println(io, flags.json ? formatJson(members) : formatMembers(members))
    })
}
