/**
 * An agent host for the cluster benchmark: one child process running any number of
 * Grapevine agents, driven by the benchmark over stdin/stdout (see protocol.ts). Agents of
 * one host share its event loop, which is how "N agents in one process" is measured; one
 * agent per host gives each node its own process (kill -9, SIGSTOP, join sync).
 *
 * It never outlives the benchmark: it exits when stdin closes (the parent died or is done)
 * and after `lifetimeMs` whatever happens. argv[2] is `{ "lifetimeMs": number }`.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { createAgent, type GrapevineAgent } from '@grapevine/agent'
import type {
  AddArgs,
  AddedAgent,
  AgentSnapshot,
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
import { createWireMeter } from './wire-meter.js'

const { lifetimeMs } = JSON.parse(process.argv[2] ?? '{}') as { lifetimeMs?: number }
setTimeout(() => process.exit(3), lifetimeMs ?? 15 * 60_000).unref()

const wire = createWireMeter(wallNow)
const agents: GrapevineAgent[] = []
let elu = performance.eventLoopUtilization()
let cpu = process.cpuUsage()
let lastSnapshot = wallNow()
const loopDelay = monitorEventLoopDelay({ resolution: 5 })
loopDelay.enable()

// Outgoing lines are batched per event-loop turn so that a burst of events costs one write.
let outbox: string[] = []
function send(message: Reply | HostEvent): void {
  if (outbox.length === 0) setImmediate(flush)
  outbox.push(JSON.stringify(message))
}
function flush(): void {
  if (outbox.length === 0) return
  const text = `${outbox.join('\n')}\n`
  outbox = []
  process.stdout.write(text)
}

function agentAt(index: unknown): GrapevineAgent {
  const agent = agents[index as number]
  if (agent === undefined) throw new Error(`no agent ${String(index)}`)
  return agent
}

/** Follows one service on every agent, reporting each add and delete with its arrival time. */
function track(name: string, from: number): void {
  for (let a = from; a < agents.length; a++) {
    const stream = agents[a]!.events(name)
    void (async () => {
      for await (const event of stream) {
        const t = wallNow()
        if (event.op === 'update') continue
        const seen: SeenEvent = {
          e: 'ev',
          a,
          op: event.op,
          id: event.instance.id,
          cause: event.cause,
          t,
        }
        send(seen)
      }
    })().catch(() => undefined)
  }
}

/** The instance shape of the core benchmark: 2 endpoints, 3 metadata pairs, one tag. */
function bulkRegistration(prefix: string, n: number, services: number) {
  const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
  return {
    id: `${prefix}-${n}`,
    name: `bulk-${n % services}`,
    version: `v1.${n % 7}.0`,
    metadata: { zone: `zone-${n % 3}`, weight: String(n % 100), owner: `team-${n % 50}` },
    endpoints: [`grpc://${ip}:9000?isSecure=false`, `http://${ip}:8080`],
    tags: [n % 2 === 0 ? 'edge' : 'core'],
  }
}

function snapshotAgent(agent: GrapevineAgent, index: number): AgentSnapshot {
  const s = agent.stats()
  return {
    index,
    peerId: agent.peerId,
    instances: s.instances,
    claims: s.claims,
    alive: s.peers.alive,
    suspect: s.peers.suspect,
    dead: s.peers.dead,
    messagesIn: s.messagesIn,
    messagesOut: s.messagesOut,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    syncSessions: s.syncSessions,
    dropped: { ...s.dropped },
  }
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const handlers: Record<string, (...args: never[]) => unknown> = {
  clock: () => wallNow(),

  async add({ count, options }: AddArgs): Promise<AddedAgent[]> {
    const made = await Promise.all(
      Array.from({ length: count }, async () => {
        const start = performance.now()
        const agent = await createAgent(options)
        return { agent, createMs: performance.now() - start }
      }),
    )
    return made.map(({ agent, createMs }) => {
      agents.push(agent)
      return {
        index: agents.length - 1,
        peerId: agent.peerId,
        addresses: [...agent.addresses],
        createMs,
      }
    })
  },

  async ready(): Promise<number> {
    const start = performance.now()
    await Promise.all(agents.map((agent) => agent.ready))
    return performance.now() - start
  },

  track(name: string, from = 0) {
    track(name, from)
    return null
  },

  async register(index: number, registration: Parameters<GrapevineAgent['register']>[0]) {
    const agent = agentAt(index)
    const t0 = wallNow()
    const id = await agent.register(registration)
    const result: RegisterResult = { id, t0, t1: wallNow() }
    return result
  },

  /** Registers `count` instances in chunks, yielding to the event loop between chunks. */
  async registerMany(index: number, prefix: string, count: number, services: number, chunk = 500) {
    const agent = agentAt(index)
    const start = performance.now()
    for (let from = 0; from < count; from += chunk) {
      const batch: Promise<string>[] = []
      for (let n = from; n < Math.min(count, from + chunk); n++) {
        batch.push(agent.register(bulkRegistration(prefix, n, services)))
      }
      await Promise.all(batch)
      await yieldToLoop()
    }
    return performance.now() - start
  },

  /** Per agent: the ids of `name` it shows (sorted). */
  ids(name: string): string[][] {
    return agents.map((agent) =>
      agent
        .getService(name)
        .map((instance) => instance.id)
        .sort(),
    )
  },

  snapshot(): HostSnapshot {
    const t = wallNow()
    const eluNow = performance.eventLoopUtilization()
    const cpuNow = process.cpuUsage()
    const spanMs = t - lastSnapshot
    const snapshot: HostSnapshot = {
      t,
      agents: agents.map(snapshotAgent),
      wire: wire.totals(),
      elu: performance.eventLoopUtilization(eluNow, elu).utilization,
      cpuMs: (cpuNow.user - cpu.user + cpuNow.system - cpu.system) / 1000,
      spanMs,
      rssMB: process.memoryUsage().rss / 1024 / 1024,
      heapMB: process.memoryUsage().heapUsed / 1024 / 1024,
      loopDelayMs: {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
    }
    loopDelay.reset()
    elu = eluNow
    cpu = cpuNow
    lastSnapshot = t
    return snapshot
  },

  /**
   * Starts one more agent and measures how long it takes to hold `expect` instances:
   * offsets from the createAgent() call to its return, the first TCP connect, the first
   * Grapevine bytes received, `ready`, and holding them all (polled every `pollMs`).
   */
  async join({ options, expect, timeoutMs, pollMs }: JoinArgs): Promise<JoinResult> {
    const cpu0 = process.cpuUsage()
    const start = wallNow()
    const agent = await createAgent(options)
    const createdMs = wallNow() - start
    agents.push(agent)
    let readyMs: number | null = null
    void agent.ready.then(() => {
      readyMs = wallNow() - start
    })
    let firstBytesMs: number | null = null
    let allMs: number | null = null
    let held = 0
    const deadline = start + timeoutMs
    for (;;) {
      const stats = agent.stats()
      held = stats.instances
      if (firstBytesMs === null && stats.bytesIn > 0) firstBytesMs = wallNow() - start
      if (held >= expect) {
        allMs = wallNow() - start
        break
      }
      if (wallNow() > deadline) break
      await sleep(pollMs)
    }
    await agent.ready
    const connect = wire.firstConnectAfter(start)
    const stats = agent.stats()
    const cpu1 = process.cpuUsage(cpu0)
    return {
      createdMs,
      tcpConnectedMs: connect === null ? null : connect - start,
      firstBytesMs,
      readyMs,
      allMs,
      held,
      bytesIn: stats.bytesIn,
      syncSessions: stats.syncSessions,
      cpuMs: (cpu1.user + cpu1.system) / 1000,
    }
  },

  async stop() {
    await Promise.all(agents.map((agent) => agent.stop().catch(() => undefined)))
    setImmediate(() => process.exit(0))
    return null
  },
}

send({ e: 'hello', pid: process.pid })
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue
  const command = JSON.parse(line) as Command
  const handler = handlers[command.op]
  // Commands run concurrently: a long `join` must not hold up `clock` or `snapshot`.
  void (async () => {
    try {
      if (handler === undefined) throw new Error(`unknown op ${command.op}`)
      const value = await (handler as (...args: unknown[]) => unknown)(...(command.args ?? []))
      send({ id: command.id, ok: true, value: value ?? null })
    } catch (err) {
      const error = err as Error
      send({ id: command.id, ok: false, error: { message: error.message, stack: error.stack } })
    }
  })()
}
// stdin closed: the benchmark is gone or done with us.
process.exit(0)
