/**
 * A Grapevine agent in its own process, driven by a test over stdin/stdout: options come as
 * JSON in argv[2]; each stdin line is a command `{id, op, args}`, each stdout line a JSON
 * reply `{id, ok, value | error}` or an unsolicited `{event: ...}`. Used for kill -9, restart
 * and network-namespace tests, where agents must be real separate processes.
 */
import { createInterface } from 'node:readline'
import { type AgentOptions, createAgent } from '@grapevine/agent'

interface Command {
  id: number
  op: string
  args?: unknown[]
}

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

const options = JSON.parse(process.argv[2] ?? '{}') as AgentOptions
// A bound on the process's life (chaos runs and soaks): it never outlives its driver for long.
const lifetimeMs = Number(process.env.GRAPEVINE_AGENT_LIFETIME_MS ?? 0)
if (lifetimeMs > 0) setTimeout(() => process.exit(3), lifetimeMs).unref()
const agent = await createAgent(options)
send({ event: 'started', peerId: agent.peerId, addresses: agent.addresses })
agent.ready.then(() => send({ event: 'ready' }))

const handlers: Record<string, (...args: never[]) => unknown> = {
  register: (registration: Parameters<typeof agent.register>[0]) => agent.register(registration),
  deregister: (id: string) => agent.deregister(id),
  getService: (name: string) => agent.getService(name),
  service: (name: string, query: Parameters<typeof agent.service>[1]) => agent.service(name, query),
  members: () => agent.members(),
  conflicts: () => agent.conflicts(),
  stats: () => agent.stats(),
  localInstances: () => agent.localInstances(),
  /** Streams every event of `name` as `{event: 'ev', op, id, version, node, cause, t}` lines. */
  follow: (name: string) => {
    void (async () => {
      for await (const event of agent.events(name)) {
        send({
          event: 'ev',
          op: event.op,
          id: event.instance.id,
          version: event.instance.version,
          node: event.instance.node,
          cause: event.cause,
          t: Date.now(),
        })
      }
    })().catch(() => undefined)
  },
  /** Heap after a full GC when the process runs with --expose-gc, and RSS, in bytes. */
  memory: () => {
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    const { heapUsed, rss } = process.memoryUsage()
    return { heapUsed, rss, gc: gc !== undefined }
  },
  leave: async () => {
    await agent.leave()
    setImmediate(() => process.exit(0))
  },
  stop: async () => {
    await agent.stop()
    setImmediate(() => process.exit(0))
  },
}

async function run(command: Command): Promise<void> {
  const handler = handlers[command.op]
  try {
    if (handler === undefined) throw new Error(`unknown op ${command.op}`)
    const value = await (handler as (...args: unknown[]) => unknown)(...(command.args ?? []))
    send({ id: command.id, ok: true, value: value ?? null })
  } catch (err) {
    const error = err as Error & { code?: string }
    send({ id: command.id, ok: false, error: { message: error.message, code: error.code } })
  }
}

// Commands run concurrently, as an HTTP API serves requests: a driver that sends several at
// once gets the agent's own coalescing of saves, not a queue of fsyncs one behind the other.
// Each starts in arrival order (the agent applies writes in call order); the driver awaits a
// reply before it sends a command that depends on it.
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue
  void run(JSON.parse(line) as Command)
}
// stdin closed: the driver is gone.
process.exit(0)
