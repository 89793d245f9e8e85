/**
 * The real `grapevine` binary, for end-to-end tests: `grapevine agent` daemons on 127.0.0.1
 * (started with the cli package's own spawnAgent, so a test sees what the demo sees) and the
 * client commands run as separate processes against their HTTP APIs.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { spawnAgent, stopAgent } from '../../packages/cli/src/demo/agent-process.js'
import type { DemoNode } from '../../packages/cli/src/demo/cluster-launcher.js'
import { CLI_COMMAND } from '../../packages/cli/src/demo/demo-launchers.js'
import { loopbackAgentArgs } from '../../packages/cli/src/demo/loopback-launcher.js'

export interface CliAgent extends DemoNode {
  /** `127.0.0.1:<port>`, for --http-addr / GRAPEVINE_HTTP_ADDR. */
  readonly httpAddr: string
}

export interface StartCliAgentInit {
  name: string
  cluster: string
  /** Parent of the agent's own data dir (`<root>/<name>`). */
  root: string
  bootstrap?: readonly string[]
  /** Extra GRAPEVINE_* variables, such as GRAPEVINE_TOKEN. */
  env?: Readonly<Record<string, string>>
  extraArgs?: readonly string[]
}

/** Starts `grapevine agent` on loopback without mDNS, on ports the OS picks. */
export async function startCliAgent(init: StartCliAgentInit): Promise<CliAgent> {
  const node = await spawnAgent({
    name: init.name,
    command: CLI_COMMAND,
    args: loopbackAgentArgs({ ...init, dataDir: join(init.root, init.name) }),
    ...(init.env && { env: init.env }),
    startTimeoutMs: 30_000,
    signal: new AbortController().signal,
  })
  return Object.assign(node, { httpAddr: node.httpUrl.replace('http://', '') })
}

/** SIGTERM, then SIGKILL after `graceMs`; never throws, so it suits afterAll. */
export async function stopCliAgent(agent: CliAgent | undefined, graceMs = 3000): Promise<void> {
  if (agent === undefined) return
  await stopAgent(agent, graceMs).catch(() => undefined)
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs one client command of the real binary (`grapevine register …`) and resolves when the
 * process has exited, with its exit code and output. GRAPEVINE_* variables of this process
 * are not passed on, so only `env` decides which agent and token the command uses.
 */
export function grapevine(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CliResult> {
  const [node, bin] = CLI_COMMAND as [string, string]
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('GRAPEVINE_')),
  )
  return new Promise((resolve) => {
    execFile(
      node,
      [bin, ...args],
      { env: { ...inherited, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}
