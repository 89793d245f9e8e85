/**
 * The benchmark's side of an agent host (agent-host-main.ts): spawn, call, follow events,
 * signal. Every host is registered so that `killAllHosts()` can end them all, which the
 * benchmark does on exit, on error and on SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type {
  AddedAgent,
  Command,
  HostEvent,
  HostSnapshot,
  JoinArgs,
  JoinResult,
  RegisterResult,
  Reply,
  SeenEvent,
} from './protocol.js'
import { wallNow } from './protocol.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')
const hosts = new Set<AgentHost>()

export interface AgentHost {
  readonly label: string
  readonly pid: number
  /** Agents added so far, by index in the host. */
  readonly agents: AddedAgent[]
  readonly exited: Promise<void>
  readonly alive: boolean
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>
  add(count: number, options: object): Promise<AddedAgent[]>
  register(index: number, registration: object): Promise<RegisterResult>
  snapshot(): Promise<HostSnapshot>
  join(args: JoinArgs): Promise<JoinResult>
  /** `listener` gets every add/delete event of tracked services, with this host attached. */
  onEvent(listener: (event: SeenEvent, host: AgentHost) => void): void
  /** Sends a signal; for SIGKILL, resolves once the process has exited. */
  signal(signal: NodeJS.Signals): Promise<void>
  /** Stops the agents and waits for the exit (SIGKILL after `graceMs`). */
  close(graceMs?: number): Promise<void>
}

export interface ClockOffset {
  /** Host clock minus ours, estimated from the round trip with the smallest RTT, ms. */
  offsetMs: number
  rttMs: number
}

export async function startHost(label: string, lifetimeMs: number): Promise<AgentHost> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // e.g. BENCH_HOST_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the agents
      ...(process.env.BENCH_HOST_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      // and BENCH_HOLDER_NODE_ARGS for the join scenario's holder only
      ...((label === 'join-holder' &&
        process.env.BENCH_HOLDER_NODE_ARGS?.split(' ').filter(Boolean)) ||
        []),
      '--import',
      'tsx',
      '--conditions=@grapevine/source',
      join(here, 'agent-host-main.ts'),
      JSON.stringify({ lifetimeMs }),
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const listeners: ((event: SeenEvent, host: AgentHost) => void)[] = []
  let nextId = 1
  let alive = true
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      alive = false
      hosts.delete(host)
      for (const waiter of pending.values()) waiter.reject(new Error(`${label} exited`))
      pending.clear()
      resolve()
    }),
  )
  const hello = new Promise<void>((resolve, reject) => {
    void exited.then(() => reject(new Error(`${label} exited before it started`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: Reply | HostEvent
      try {
        message = JSON.parse(line) as Reply | HostEvent
      } catch {
        if (process.env.BENCH_ECHO) process.stderr.write(`[${label}] ${line}\n`)
        return // a stray log line
      }
      if ('e' in message) {
        if (message.e === 'hello') resolve()
        else for (const listener of listeners) listener(message, host)
        return
      }
      const waiter = pending.get(message.id)
      pending.delete(message.id)
      if (message.ok) waiter?.resolve(message.value)
      else waiter?.reject(new Error(`${label}: ${message.error?.message}`))
    })
  })

  const call = <T>(op: string, ...args: unknown[]): Promise<T> => {
    if (!alive) return Promise.reject(new Error(`${label} is not running`))
    const id = nextId++
    const command: Command = { id, op, args }
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      child.stdin!.write(`${JSON.stringify(command)}\n`)
    })
  }

  const agents: AddedAgent[] = []
  const host: AgentHost = {
    label,
    pid: child.pid!,
    agents,
    exited,
    get alive() {
      return alive
    },
    call,
    async add(count, options) {
      const added = await call<AddedAgent[]>('add', { count, options })
      agents.push(...added)
      return added
    },
    register: (index, registration) => call<RegisterResult>('register', index, registration),
    snapshot: () => call<HostSnapshot>('snapshot'),
    join: (args) => call<JoinResult>('join', args),
    onEvent(listener) {
      listeners.push(listener)
    },
    async signal(signal) {
      if (!alive) return
      child.kill(signal)
      if (signal === 'SIGKILL') await exited
    },
    async close(graceMs = 5_000) {
      if (!alive) return
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      call('stop').catch(() => undefined)
      await exited
      clearTimeout(timer)
    },
  }
  hosts.add(host)
  try {
    await hello
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  return host
}

/**
 * The host's clock against ours: `samples` round trips over the pipe; the one with the
 * smallest RTT bounds the offset's error by RTT/2.
 */
export async function clockOffset(host: AgentHost, samples = 15): Promise<ClockOffset> {
  let best: ClockOffset = { offsetMs: 0, rttMs: Number.POSITIVE_INFINITY }
  for (let i = 0; i < samples; i++) {
    const sent = wallNow()
    const theirs = await host.call<number>('clock')
    const back = wallNow()
    if (back - sent < best.rttMs)
      best = { offsetMs: theirs - (sent + back) / 2, rttMs: back - sent }
  }
  return best
}

/** Process ids of every host still running. */
export function livePids(): number[] {
  return [...hosts].map((host) => host.pid)
}

/** SIGKILLs every host still running (SIGSTOPped ones included) and waits for the exits. */
export async function killAllHosts(): Promise<void> {
  const all = [...hosts]
  for (const host of all) await host.signal('SIGKILL').catch(() => undefined)
}

/** Synchronous variant for `process.on('exit')`. */
export function killAllHostsNow(): void {
  for (const host of hosts) {
    try {
      process.kill(host.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}
