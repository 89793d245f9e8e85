import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatInfo } from '../output/format-info.js'
import { formatJson } from '../output/json.js'
import { addClientOptions, type ClientFlags, clientFor, println } from './client-options.js'

export function infoCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('info')
      .summary('show who the local agent is and its counters')
      .description(
        "Show the local agent's node name, peer id, cluster, addresses and readiness, with its counters: claims, instances, conflicts, members by state, gossip messages and bytes, sync sessions and dropped messages. Consul's `consul info`.",
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine info
  $ grapevine info --json | jq .stats.peers`,
    )
    .action(async (flags: ClientFlags) => {
      const self = await clientFor(io, flags).self()
      println(io, flags.json ? formatJson(self) : formatInfo(self))
    })
}
