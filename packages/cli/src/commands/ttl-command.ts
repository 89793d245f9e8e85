import { ValidationError } from '@grapevine/core'
import type { Command } from 'commander'
import { isTtlReport, TTL_REPORTS } from '../http/agent-extensions.js'
import type { CliIo } from '../io.js'
import { formatJson } from '../output/json.js'
import { addClientOptions, type ClientFlags, clientFor, println } from './client-options.js'

export function ttlCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('ttl')
      .summary('report pass, warn or fail for a TTL health check')
      .argument('<instance>', 'instance id')
      .argument('<check>', 'check id (default ids are ttl-0, ttl-1, … in registration order)')
      .argument('<status>', 'pass, warn or fail')
      .option('--note <text>', 'a note shown as the check output')
      .description(
        'Report the health of a TTL check: the instance stays passing while reports arrive at least once per TTL, and turns critical when they stop.',
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine register --name worker --ttl-check 30s
  $ grapevine ttl worker-1 ttl-0 pass
  $ grapevine ttl worker-1 ttl-0 warn --note "queue backlog 5000"`,
    )
    .action(
      async (
        instance: string,
        check: string,
        status: string,
        flags: ClientFlags & { note?: string },
      ) => {
        if (!isTtlReport(status)) {
          throw new ValidationError('status', `must be one of ${TTL_REPORTS.join(', ')}`)
        }
        await clientFor(io, flags).ttl(instance, check, status, flags.note)
        println(
          io,
          flags.json
            ? formatJson({ instanceId: instance, checkId: check, status })
            : `Reported ${status} for check ${check} of ${instance}`,
        )
      },
    )
}
