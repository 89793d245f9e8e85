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
  all?: boolean
}

export function servicesCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('services')
      .summary('list services with instance counts')
      .description(
        'List every service in the cluster with its instance counts by health, versions and tags. By default only passing and warning instances count; --all adds critical ones.',
      )
      .option('--tag <tag>', 'only instances with this tag (repeatable: all must match)', collect)
      .option('--all', 'include critical (failing) instances'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine services
  $ grapevine services --tag edge --json`,
    )
    .action(async (flags: ServicesFlags) => {
      const services = await clientFor(io, flags).services({
        ...(flags.tag === undefined ? {} : { tags: flags.tag }),
        ...(flags.all ? { includeCritical: true } : {}),
      })
      println(io, flags.json ? formatJson(services) : formatServices(services))
    })
}
