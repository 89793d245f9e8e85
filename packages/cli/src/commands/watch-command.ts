import type { Command } from 'commander'
import { StreamClosedError } from '../errors.js'
import type { CliIo } from '../io.js'
import { formatWatchFrame } from '../output/format-watch.js'
import { addClientOptions, type ClientFlags, clientFor } from './client-options.js'
import { addFilterOptions, type FilterFlags, toServiceQuery } from './filter-options.js'

export function watchCommand(program: Command, io: CliIo): void {
  addClientOptions(
    addFilterOptions(
      program
        .command('watch')
        .summary('follow one service live')
        .argument('<name>', 'service name')
        .description(
          'Follow one service live; when the agent restarts, reconnect and resume (Last-Event-ID). On a terminal the table is redrawn in place at every change; piped, each update is appended; with --json, one JSON object per line ({type: "snapshot" | "change", index, instances, event?}). Stops on Ctrl-C.',
        ),
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine watch user-service
  $ grapevine watch user-service --tag edge --json | jq -c '.event'`,
    )
    .action(async (name: string, flags: ClientFlags & FilterFlags) => {
      const client = clientFor(io, flags)
      const controller = new AbortController()
      const unsubscribe = io.onSignal(() => controller.abort())
      try {
        const redraw = io.stdout.isTTY === true && !flags.json
        const stream = client.watch(name, toServiceQuery(flags), controller.signal, {
          // On stderr, so that --json output stays one JSON object per line.
          onReconnecting: () =>
            io.stderr.write(`lost the agent at ${client.baseUrl}; reconnecting…\n`),
          onReconnected: () => io.stderr.write(`reconnected to ${client.baseUrl}\n`),
        })
        for await (const message of stream) {
          io.stdout.write(
            formatWatchFrame(message, { name, redraw, json: flags.json === true, at: io.now() }),
          )
        }
        if (!controller.signal.aborted) {
          throw new StreamClosedError(client.baseUrl)
        }
      } finally {
        unsubscribe()
      }
    })
}
