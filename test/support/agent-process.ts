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
}

/**
 * Starts an agent process. With `netns`, it runs inside that network namespace via
 * `ip netns exec`, so multicast stays inside namespaces the test made.
 */
export async function startAgentProcess(
  options: AgentOptions,
  { netns }: { netns?: string } = {},
): Promise<AgentProcess> {
  const nodeArgs = ['--import', 'tsx', join(here, 'agent-process-main.ts'), JSON.stringify(options)]
  const child: ChildProcess =
    netns === undefined
      ? spawn(process.execPath, nodeArgs, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('ip', ['netns', 'exec', netns, process.execPath, ...nodeArgs], {
          cwd: root,
          stdio: ['pipe', 'pipe', 'inherit'],
        })
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
      if (reply.event === 'started') resolve(reply)
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
