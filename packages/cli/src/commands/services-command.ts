import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatServices } from '../output/format-services.js'
import { formatJson } from '../output/json.js'
import {
  addClientOptions,
  type ClientFlags,
  clientFor,
  collect,
  println,
} from './client-options.js'

interface ServicesFlags extends ClientFlags {
  tag?: string[]
  passing?: boolean
}

export function servicesCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('services')
      .summary('list services with instance counts')
      .description(
        'List every service in the cluster with its instance counts by health (passing, warning, critical), versions and tags, including services whose instances all fail. --passing lists only passing instances (and the services that have one).',
      )
      .option('--tag <tag>', 'only instances with this tag (repeatable: all must match)', collect)
      .option('--passing', 'only passing instances'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine services
  $ grapevine services --passing
  $ grapevine services --tag edge --json`,
    )
    .action(async (flags: ServicesFlags) => {
      const services = await clientFor(io, flags).services({
        ...(flags.tag === undefined ? {} : { tags: flags.tag }),
        ...(flags.passing ? { passing: true } : { includeCritical: true }),
      })
      println(io, flags.json ? formatJson(services) : formatServices(services))
    })
}
