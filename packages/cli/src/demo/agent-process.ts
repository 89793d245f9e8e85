import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { GrapevineError } from '@grapevine/core'
import type { DemoNode } from './cluster-launcher.js'

/** Thrown when a demo agent exits or stays silent before it reports that it started. */
export class AgentStartError extends GrapevineError {
  static readonly code = 'ERR_AGENT_START'
  constructor(name: string, reason: string, log: string) {
    super(AgentStartError.code, `${name} did not start: ${reason}\n--- last log lines ---\n${log}`)
  }
}

export interface SpawnAgentInit {
  name: string
  /** Command and arguments before `agent`, e.g. `[node, bin/grapevine.js]` or an `ip netns exec` prefix. */
  command: readonly string[]
  /** Arguments after `agent`. */
  args: readonly string[]
  startTimeoutMs: number
  signal: AbortSignal
  /** Extra environment variables (GRAPEVINE_*), on top of this process's environment. */
  env?: Readonly<Record<string, string>>
}

const LOG_LINES_KEPT = 200

/**
 * Starts `grapevine agent` as a child process and resolves once it logs `agent started`
 * (peer id, addresses and HTTP URL are read from that JSON line). The child gets its own
 * process group, so a Ctrl-C at the terminal reaches only the demo, which then stops the
 * nodes in order; `--exit-on-stdin-close` stops them if the demo dies without cleaning up.
 */
export function spawnAgent(init: SpawnAgentInit): Promise<DemoNode> {
  const [program, ...prefix] = init.command
  const child = spawn(program!, [...prefix, 'agent', ...init.args, '--exit-on-stdin-close'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ...init.env },
  })
  const log: string[] = []
  const remember = (line: string) => {
    log.push(line)
    if (log.length > LOG_LINES_KEPT) log.shift()
  }
  const logTail = (lines: number) => log.slice(-lines).join('\n')
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.once('error', (err) => {
      remember(String(err))
      resolve(null)
    })
  })
  createInterface({ input: child.stderr! }).on('line', remember)

  return new Promise<DemoNode>((resolve, reject) => {
    let started = false
    const fail = (reason: string) => {
      if (started) return
      clearTimeout(timer)
      init.signal.removeEventListener('abort', onAbort)
      if (child.exitCode === null) child.kill('SIGKILL')
      reject(new AgentStartError(init.name, reason, logTail(20)))
    }
    const timer = setTimeout(
      () => fail(`no "agent started" log line within ${init.startTimeoutMs} ms`),
      init.startTimeoutMs,
    )
    const onAbort = () => fail('interrupted')
    init.signal.addEventListener('abort', onAbort, { once: true })
    void exited.then((code) => fail(`exited with code ${code}`))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      remember(line)
      let entry: {
        msg?: unknown
        peerId?: unknown
        addresses?: unknown
        http?: unknown
        dns?: unknown
      }
      try {
        entry = JSON.parse(line)
      } catch {
        return
      }
      if (entry.msg !== 'agent started' || started) return
      started = true
      clearTimeout(timer)
      init.signal.removeEventListener('abort', onAbort)
      resolve({
        name: init.name,
        peerId: String(entry.peerId),
        addresses: Array.isArray(entry.addresses) ? entry.addresses.map(String) : [],
        httpUrl: String(entry.http),
        ...(typeof entry.dns === 'string' && { dnsAddr: entry.dns }),
        kill: (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
        },
        exited,
        logTail,
      })
    })
  })
}

/** SIGTERM (a graceful leave), then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopAgent(node: DemoNode, graceMs: number): Promise<void> {
  node.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs)
  })
  await Promise.race([node.exited, timeout])
  clearTimeout(timer)
  node.kill('SIGKILL')
  await node.exited
}
