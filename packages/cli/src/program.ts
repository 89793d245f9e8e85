import { Command, CommanderError } from 'commander'
import { agentCommand } from './commands/agent-command.js'
import { conflictsCommand } from './commands/conflicts-command.js'
import { demoCommand } from './commands/demo-command.js'
import { deregisterCommand } from './commands/deregister-command.js'
import { infoCommand } from './commands/info-command.js'
import { instancesCommand } from './commands/instances-command.js'
import { keygenCommand } from './commands/keygen-command.js'
import { leaveCommand } from './commands/leave-command.js'
import { membersCommand } from './commands/members-command.js'
import { registerCommand } from './commands/register-command.js'
import { serviceCommand } from './commands/service-command.js'
import { servicesCommand } from './commands/services-command.js'
import { ttlCommand } from './commands/ttl-command.js'
import { watchCommand } from './commands/watch-command.js'
import type { ClusterLauncher } from './demo/cluster-launcher.js'
import { demoLaunchers } from './demo/demo-launchers.js'
import type { CliIo } from './io.js'

export const VERSION = '0.1.0'

/** Replaceable parts of the command tree, for tests. */
export interface ProgramOptions {
  /** The demo's cluster launchers. @default `demoLaunchers()` (real agent processes) */
  demoLaunchers?: (agentArgs: readonly string[]) => ClusterLauncher[]
}

/** The `grapevine` command tree; `io` carries every side effect so tests run it in-process. */
export function createProgram(io: CliIo, options: ProgramOptions = {}): Command {
  const program = new Command('grapevine')
    .description(
      'Grapevine: a masterless peer-to-peer service registry. Run `grapevine agent` on every node; the other commands talk to the local agent over its HTTP API.',
    )
    .version(VERSION)
    // Program options only before the command, so `register --version v1` is the service's.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine agent --dev                        # try it: one agent on this machine, UI at /ui/
  $ grapevine agent --cluster demo               # start an agent (Ctrl-C leaves the cluster)
  $ grapevine register --name web --endpoint http://127.0.0.1:8080
  $ grapevine services
  $ grapevine watch web
  $ grapevine info
  $ grapevine leave                              # the local agent leaves gracefully and exits
  $ grapevine demo                               # a local cluster, end to end`,
    )
  agentCommand(program, io)
  membersCommand(program, io)
  servicesCommand(program, io)
  serviceCommand(program, io)
  registerCommand(program, io)
  deregisterCommand(program, io)
  instancesCommand(program, io)
  ttlCommand(program, io)
  watchCommand(program, io)
  conflictsCommand(program, io)
  infoCommand(program, io)
  leaveCommand(program, io)
  keygenCommand(program, io)
  demoCommand(program, io, options.demoLaunchers ?? demoLaunchers)
  return program
}

/**
 * Runs one command line (without `node grapevine`); resolves with the exit code. Errors are
 * printed as one `error: …` line on stderr, with a hint when the field is known.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: ProgramOptions = {},
): Promise<number> {
  try {
    await createProgram(io, options).parseAsync([...argv], { from: 'user' })
    return 0
  } catch (err) {
    // Commander already printed its usage error or help.
    if (err instanceof CommanderError) return err.exitCode
    io.stderr.write(`error: ${describeError(err)}\n`)
    const exitCode = (err as { exitCode?: unknown }).exitCode
    return typeof exitCode === 'number' ? exitCode : 1
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const field = (err as { field?: unknown }).field
  if (typeof field === 'string' && !err.message.includes(field)) {
    return `${err.message} (field: ${field})`
  }
  return err.message
}
