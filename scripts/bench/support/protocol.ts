/**
 * The line protocol between the cluster benchmark (parent) and its agent hosts (children,
 * see agent-host-main.ts). Each stdin line is a `Command`, each stdout line a `Reply` to one
 * or an unsolicited `HostEvent`. Times are wall-clock milliseconds with sub-ms precision,
 * `performance.timeOrigin + performance.now()`: monotonic within a process and comparable
 * across processes of one machine (see `wallNow`).
 */
import type { AgentOptions } from '@grapevine/agent'
import type { WireTotals } from './wire-meter.js'

/**
 * Milliseconds since the epoch, sub-ms precision, from the monotonic clock: the process's
 * `timeOrigin` (the wall clock read once at start) plus the monotonic time since. Processes
 * on one host share the kernel's clocks, so their values differ only by the error of each
 * `timeOrigin` reading; the benchmark measures that offset against the parent (`clock`).
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now()
}

export interface Command {
  id: number
  op: string
  args?: unknown[]
}

export interface Reply {
  id: number
  ok: boolean
  value?: unknown
  error?: { message: string; stack?: string }
}

/** An add or delete of one instance as seen by one agent's `events()` stream. */
export interface SeenEvent {
  e: 'ev'
  /** Agent index in its host process. */
  a: number
  op: 'add' | 'update' | 'delete'
  id: string
  cause: string
  /** wallNow() when the event reached the consumer loop. */
  t: number
}

export type HostEvent = SeenEvent | { e: 'hello'; pid: number }

export interface AddArgs {
  count: number
  options: AgentOptions
}

export interface AddedAgent {
  index: number
  peerId: string
  addresses: string[]
  /** ms from createAgent() call to its return. */
  createMs: number
}

export interface RegisterResult {
  id: string
  /** wallNow() just before `register()` was called, and when it resolved. */
  t0: number
  t1: number
}

export interface AgentSnapshot {
  index: number
  peerId: string
  instances: number
  claims: number
  alive: number
  suspect: number
  dead: number
  messagesIn: number
  messagesOut: number
  bytesIn: number
  bytesOut: number
  syncSessions: number
  dropped: Record<string, number>
}

export interface HostSnapshot {
  t: number
  agents: AgentSnapshot[]
  /** TCP bytes of every socket this process opened or accepted (all libp2p traffic), and UDP. */
  wire: WireTotals
  /** Event-loop utilisation since the previous snapshot (0..1). */
  elu: number
  /** CPU time (user + system) since the previous snapshot, ms, and the wall time it spans. */
  cpuMs: number
  spanMs: number
  rssMB: number
  heapMB: number
  /**
   * Event-loop delay since the previous snapshot (perf_hooks histogram, 5 ms resolution:
   * the extra wait of a 5 ms timer): how long ready work waited for the loop, ms.
   */
  loopDelayMs: { p50: number; p99: number; max: number }
}

export interface JoinArgs {
  options: AgentOptions
  expect: number
  timeoutMs: number
  pollMs: number
}

export interface JoinResult {
  /** Offsets from the createAgent() call, ms. */
  createdMs: number
  tcpConnectedMs: number | null
  firstBytesMs: number | null
  readyMs: number | null
  allMs: number | null
  held: number
  bytesIn: number
  syncSessions: number
  cpuMs: number
}
