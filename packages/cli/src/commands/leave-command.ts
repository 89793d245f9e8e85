import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatJson } from '../output/json.js'
import { addClientOptions, type ClientFlags, clientFor, println } from './client-options.js'

export function leaveCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('leave')
      .summary('make the local agent leave the cluster gracefully and exit')
      .description(
        'Ask the local agent to leave the cluster gracefully, as SIGTERM does: its instances are deregistered (others see cause "left"), its peers are told, then the agent process exits. Consul\'s `consul leave`.',
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine leave
  $ grapevine leave --http-addr 10.0.0.5:8510 --token "$TOKEN"`,
    )
    .action(async (flags: ClientFlags) => {
      const answer = await clientFor(io, flags).leave()
      println(
        io,
        flags.json
          ? formatJson(answer)
          : `${answer.node} is leaving the cluster; its instances are deregistered and the agent exits.`,
      )
    })
}
