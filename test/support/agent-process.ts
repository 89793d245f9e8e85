import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { AgentOptions } from '@grapevine/agent'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')

interface Reply {
  id?: number
  ok?: boolean
  value?: unknown
  error?: { message: string; code?: string }
  event?: string
  peerId?: string
  addresses?: string[]
}

/** An event line of `follow(name)`: one view event of the followed service. */
export interface FollowedEvent {
  op: 'add' | 'update' | 'delete'
  id: string
  version: string
  node: string
  cause: string
  /** Wall clock of the agent process, ms. */
  t: number
}

/** A handle on an agent running in a child process (see agent-process-main.ts). */
export interface AgentProcess {
  readonly peerId: string
  readonly addresses: string[]
  readonly pid: number
  readonly ready: Promise<void>
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>
  /** Sends a signal; resolves when the process has exited (for KILL) or at once (for STOP/CONT). */
  signal(signal: NodeJS.Signals): Promise<void>
  readonly exited: Promise<number | null>
  /** Calls `listener` for each event line of a `follow` call. */
  onEvent(listener: (event: FollowedEvent) => void): void
}

export interface AgentProcessInit {
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string
  /** Extra node flags, such as `--expose-gc`. */
  nodeArgs?: string[]
  /** The process exits by itself after this long. */
  lifetimeMs?: number
}

/**
 * Starts an agent process. With `netns`, it runs inside that network namespace via
 * `ip netns exec`, so multicast stays inside namespaces the test made.
 */
export async function startAgentProcess(
  options: AgentOptions,
  { netns, nodeArgs: extraArgs = [], lifetimeMs }: AgentProcessInit = {},
): Promise<AgentProcess> {
  const nodeArgs = [
    ...extraArgs,
    '--import',
    'tsx',
    join(here, 'agent-process-main.ts'),
    JSON.stringify(options),
  ]
  const env = {
    ...process.env,
    ...(lifetimeMs !== undefined && { GRAPEVINE_AGENT_LIFETIME_MS: String(lifetimeMs) }),
  }
  const child: ChildProcess =
    netns === undefined
      ? spawn(process.execPath, nodeArgs, { cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('ip', ['netns', 'exec', netns, process.execPath, ...nodeArgs], {
          cwd: root,
          env,
          stdio: ['pipe', 'pipe', 'inherit'],
        })
  const eventListeners: ((event: FollowedEvent) => void)[] = []
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let resolveReady!: () => void
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  let nextId = 1
  const started = new Promise<Reply>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`agent process exited early with ${code}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let reply: Reply
      try {
        reply = JSON.parse(line) as Reply
      } catch {
        return // a stray log line
      }
      if (reply.event === 'ev') {
        for (const listener of eventListeners) listener(reply as unknown as FollowedEvent)
      } else if (reply.event === 'started') resolve(reply)
      else if (reply.event === 'ready') resolveReady()
      else if (reply.id !== undefined) {
        const waiter = pending.get(reply.id)
        pending.delete(reply.id)
        if (reply.ok) waiter?.resolve(reply.value)
        else {
          const error = new Error(reply.error?.message) as Error & { code?: string }
          error.code = reply.error?.code
          waiter?.reject(error)
        }
      }
    })
  })
  exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error('agent process exited'))
    pending.clear()
  })
  const hello = await started
  return {
    peerId: hello.peerId!,
    addresses: hello.addresses!,
    pid: child.pid!,
    ready,
    exited,
    onEvent(listener) {
      eventListeners.push(listener)
    },
    call<T>(op: string, ...args: unknown[]): Promise<T> {
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        child.stdin!.write(`${JSON.stringify({ id, op, args })}\n`)
      })
    },
    async signal(signal: NodeJS.Signals) {
      if (child.exitCode !== null || child.signalCode !== null) return
      // With `ip netns exec` the agent is the child itself (ip execs node), so the pid is right.
      child.kill(signal)
      if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited
    },
  }
}
