import { ValidationError } from '@grapevine/core'
import type { Command } from 'commander'
import { createAgentClient } from '../client/agent-client.js'
import type { ClusterLauncher } from '../demo/cluster-launcher.js'
import { formatDemoReport } from '../demo/demo-report.js'
import { runDemo } from '../demo/run-demo.js'
import { DemoInterruptedError } from '../demo/wait-until.js'
import type { CliIo } from '../io.js'
import { formatJson } from '../output/json.js'
import { println } from './client-options.js'

interface DemoFlags {
  nodes: string
  json?: boolean
  logLevel?: string
}

export function demoCommand(
  program: Command,
  io: CliIo,
  launchers: (agentArgs: readonly string[]) => ClusterLauncher[],
): void {
  program
    .command('demo')
    .summary('run a local demo cluster and measure it')
    .description(
      'Start a small cluster of `grapevine agent` processes on this machine, register example services and show them converge live, SIGKILL one agent and show the others notice, then print the measured convergence and failure-detection times. Everything it starts is stopped and removed at the end, on error and on Ctrl-C.',
    )
    .option('--nodes <n>', 'number of agents, 3 to 5', '3')
    .option(
      '--log-level <level>',
      "the agents' log level (their logs are shown only on failure)",
      'info',
    )
    .option('--json', 'print only the measurements, as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine demo
  $ grapevine demo --nodes 5 --json`,
    )
    .action(async (flags: DemoFlags) => {
      const count = Number(flags.nodes)
      if (!Number.isInteger(count) || count < 3 || count > 5) {
        throw new ValidationError('nodes', `must be 3, 4 or 5, got "${flags.nodes}"`)
      }
      const controller = new AbortController()
      const unsubscribe = io.onSignal(() => controller.abort())
      try {
        const report = await runDemo({
          nodes: count,
          launchers: launchers(['--log-level', flags.logLevel ?? 'info']),
          say: flags.json ? () => {} : (line) => println(io, line),
          signal: controller.signal,
          clientFor: (node) => createAgentClient({ baseUrl: node.httpUrl }),
        })
        println(io, flags.json ? formatJson(report) : `\n${formatDemoReport(report)}`)
      } catch (err) {
        if (controller.signal.aborted) throw new DemoInterruptedError()
        throw err
      } finally {
        unsubscribe()
      }
    })
}
