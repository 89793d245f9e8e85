import type { MemberState } from '../../src/agent-api.js'
import { addTag, memberTablePart } from '../../src/member-table-tag.js'
import type {
  AliveRecord,
  MemberRecord,
  SwimMessage,
  SwimTimings,
} from '../../src/membership-types.js'
import { createSwim, type Swim } from '../../src/swim.js'

/**
 * A pure, discrete-event simulation of the membership protocol: N state machines on one
 * fake clock, a network that delays, loses and partitions messages, and nodes that crash
 * (their port then refuses, or they fall silent) or pause (messages to them wait, as in a
 * SIGSTOPped process's sockets) and resume. Used by the property tests and by the membership
 * benchmark (scripts/bench/membership.bench.ts), at up to 10,000 nodes.
 */

export interface NetworkModel {
  /** Share of messages (and flood copies) lost, 0–1. */
  loss: number
  /** One-way delay of a message: `min + random · jitter` ms. */
  delayMin: number
  delayJitter: number
  /**
   * Whether records a node originates are also flooded to every node (as gossipsub does in
   * the real system), each copy subject to loss; off: piggyback dissemination only.
   */
  flood: boolean
  /** Delay of a flood copy: `floodDelay + random · jitter` ms. */
  floodDelay: number
}

export const QUIET_NETWORK: NetworkModel = {
  loss: 0,
  delayMin: 0.2,
  delayJitter: 1,
  flood: true,
  floodDelay: 2,
}

export interface SimMemberNode {
  readonly id: string
  readonly swim: Swim
  crashed: boolean
  /** Crashed and its port refuses connections (kill -9 with the host up). */
  refuses: boolean
  paused: boolean
  /** Messages that arrived while paused, delivered on resume. */
  readonly inbox: Event[]
  side: number
  scheduledTick: number
  /** Facts this node produced: `[time, member, state]`. */
  readonly facts: [number, string, MemberState][]
  sent: number
  received: number
  /** Records this node flooded to the whole cluster (each one n − 1 copies). */
  flooded: number
}

type Event =
  | { time: number; kind: 'tick'; node: number }
  | { time: number; kind: 'message'; from: number; to: number; message: SwimMessage }
  | { time: number; kind: 'record'; from: number; to: number; record: MemberRecord }
  | { time: number; kind: 'undeliverable'; from: number; to: number; message: SwimMessage }
  | Flood

/**
 * One flooded record on its way to every other node, as a single queue entry that hands out
 * its copies in time order (`time` is the next copy's). Scheduling n − 1 copies at once made
 * a crash at 10,000 nodes cost 10⁸ queued events, because every node floods its own DEAD.
 * The copies' delays are the order statistics of n − 1 uniform draws in
 * [floodDelay, 2·floodDelay] (the same set of times as independent delays), generated one at
 * a time; recipients come in a random coprime-stride order, one per flood.
 */
interface Flood {
  time: number
  readonly kind: 'flood'
  readonly from: number
  readonly record: MemberRecord
  readonly start: number
  /** Positions of the stride order handed out so far (the sender's own is skipped). */
  position: number
  /** Copies scheduled so far, and the last uniform order statistic drawn. */
  copies: number
  u: number
  readonly offset: number
  readonly stride: number
}

/** A binary min-heap of events by time. */
class EventQueue {
  private readonly heap: Event[] = []
  get size(): number {
    return this.heap.length
  }
  push(event: Event): void {
    const heap = this.heap
    heap.push(event)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent]!.time <= heap[i]!.time) break
      ;[heap[parent], heap[i]] = [heap[i]!, heap[parent]!]
      i = parent
    }
  }
  peek(): Event | undefined {
    return this.heap[0]
  }
  pop(): Event | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && heap[l]!.time < heap[m]!.time) m = l
        if (r < heap.length && heap[r]!.time < heap[m]!.time) m = r
        if (m === i) break
        ;[heap[m], heap[i]] = [heap[i]!, heap[m]!]
        i = m
      }
    }
    return top
  }
}

const NO_SIG = new Uint8Array(0)

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

export interface MembershipSimInit {
  size: number
  timings: SwimTimings
  network: NetworkModel
  random: () => number
  /** Start every node knowing every other (a converged cluster), via a shared roster. */
  converged?: boolean
}

export class MembershipSim {
  readonly nodes: SimMemberNode[] = []
  private readonly queue = new EventQueue()
  private time = 0
  private readonly index = new Map<string, number>()
  private readonly random: () => number
  network: NetworkModel
  /** The member `watch()` follows: each observer's latest state of it, and counts by state. */
  private watched:
    | { id: string; states: (MemberState | undefined)[]; counts: Map<string, number> }
    | undefined

  constructor(init: MembershipSimInit) {
    this.random = init.random
    this.network = init.network
    const ids = Array.from({ length: init.size }, (_, i) => `n${i}`)
    for (const [i, id] of ids.entries()) this.index.set(id, i)
    const aliveOf = (id: string): AliveRecord | undefined =>
      this.index.has(id)
        ? { kind: 'alive', id, gen: 1, incarnation: 0, name: id, addrs: [], sig: NO_SIG }
        : undefined
    const roster =
      init.converged === false
        ? undefined
        : {
            ids,
            alive: aliveOf,
            tableSum: ids.reduce((sum, id) => addTag(sum, memberTablePart(id, 1, 0, 'alive')), 0),
          }
    for (const id of ids) {
      const swim = createSwim({
        self: id,
        gen: 1,
        name: id,
        addrs: [],
        cluster: 'sim',
        now: () => this.time,
        random: this.random,
        timings: init.timings,
        signer: { sign: () => NO_SIG },
        purgeAfter: 1e12,
        ...(roster !== undefined && { roster }),
      })
      this.nodes.push({
        id,
        swim,
        crashed: false,
        refuses: false,
        paused: false,
        inbox: [],
        side: 0,
        scheduledTick: Number.POSITIVE_INFINITY,
        facts: [],
        sent: 0,
        received: 0,
        flooded: 0,
      })
    }
    for (const [i, node] of this.nodes.entries()) {
      node.swim.start()
      // The roster stands for every start-up ALIVE having reached every node already: their
      // flood would change no state (same generation and incarnation) but cost n² deliveries,
      // 10⁸ events at 10,000 nodes.
      this.flush(i, roster === undefined)
    }
  }

  get now(): number {
    return this.time
  }

  /** Node `i` joins a cluster that does not know it, through `via` (a table exchange). */
  introduce(i: number, via: number): void {
    this.nodes[i]!.swim.connected(this.nodes[via]!.id)
    this.flush(i)
  }

  private delay(): number {
    return this.network.delayMin + this.random() * this.network.delayJitter
  }

  private reachable(from: SimMemberNode, to: SimMemberNode): boolean {
    return from.side === to.side
  }

  /** Sends what node `i` produced and schedules its next tick. */
  private flush(i: number, floods = true): void {
    const node = this.nodes[i]!
    const output = node.swim.drain()
    for (const fact of output.facts) {
      node.facts.push([this.time, fact.id, fact.state])
      if (fact.id === this.watched?.id) this.noteWatched(i, fact.state)
    }
    if (!node.crashed) {
      for (const { to, message } of output.messages) {
        const j = this.index.get(to)
        if (j === undefined) continue
        node.sent++
        const target = this.nodes[j]!
        if (target.crashed && target.refuses && this.reachable(node, target)) {
          // A closed port answers at once: the sender learns the message did not arrive.
          this.queue.push({
            time: this.time + this.delay(),
            kind: 'undeliverable',
            from: i,
            to: j,
            message,
          })
          continue
        }
        if (this.random() < this.network.loss) continue
        this.queue.push({
          time: this.time + this.delay(),
          kind: 'message',
          from: i,
          to: j,
          message,
        })
      }
      if (this.network.flood && floods) {
        for (const record of output.floods) {
          node.flooded++
          this.startFlood(i, record)
        }
      }
    }
    const next = node.swim.nextDeadline()
    if (next < node.scheduledTick || node.scheduledTick <= this.time) {
      node.scheduledTick = Math.max(next, this.time)
      if (Number.isFinite(next))
        this.queue.push({ time: node.scheduledTick, kind: 'tick', node: i })
    }
  }

  private startFlood(from: number, record: MemberRecord): void {
    const n = this.nodes.length
    if (n < 2) return
    let stride = 1 + Math.floor(this.random() * Math.max(1, n - 1))
    while (n > 1 && gcd(stride, n) !== 1) stride = (stride % (n - 1)) + 1
    const flood: Flood = {
      time: 0,
      kind: 'flood',
      from,
      record,
      start: this.time,
      position: 0,
      copies: 0,
      u: 0,
      offset: Math.floor(this.random() * n),
      stride,
    }
    this.advanceFlood(flood)
  }

  /** Draws the time of `flood`'s next copy and queues it, unless all copies went. */
  private advanceFlood(flood: Flood): void {
    const copies = this.nodes.length - 1
    if (flood.copies >= copies) return
    // Ascending order statistics of `copies` uniforms: u_k = 1 − (1 − u_{k−1})·V^(1/(m−k+1)).
    flood.u = 1 - (1 - flood.u) * this.random() ** (1 / (copies - flood.copies))
    flood.copies++
    flood.time = flood.start + this.network.floodDelay * (1 + flood.u)
    this.queue.push(flood)
  }

  private nextRecipient(flood: Flood): number {
    const n = this.nodes.length
    for (;;) {
      const j = (flood.offset + flood.position * flood.stride) % n
      flood.position++
      if (j !== flood.from) return j
    }
  }

  private deliver(event: Event): void {
    if (event.kind === 'flood') {
      const to = this.nextRecipient(event)
      const lost = this.random() < this.network.loss
      if (!lost) {
        const copy = {
          time: event.time,
          kind: 'record',
          from: event.from,
          to,
          record: event.record,
        } as const
        this.deliver(copy)
      }
      this.advanceFlood(event)
      return
    }
    if (event.kind === 'tick') {
      const node = this.nodes[event.node]!
      if (node.crashed || node.paused || event.time !== node.scheduledTick) return
      node.scheduledTick = Number.POSITIVE_INFINITY
      node.swim.tick()
      this.flush(event.node)
      return
    }
    const to = event.kind === 'undeliverable' ? event.from : event.to
    const node = this.nodes[to]!
    if (node.crashed) return
    if (event.kind !== 'undeliverable' && !this.reachable(this.nodes[event.from]!, node)) return
    if (node.paused) {
      node.inbox.push(event)
      return
    }
    if (event.kind === 'message') {
      node.received++
      node.swim.receive(this.nodes[event.from]!.id, event.message)
    } else if (event.kind === 'record') {
      node.swim.receiveRecord(event.record)
    } else {
      node.swim.undeliverable(this.nodes[event.to]!.id, event.message)
    }
    this.flush(to)
  }

  /**
   * Runs every event up to `until` (absolute ms), or until `done()` holds after one of them;
   * whether it did.
   */
  runUntil(until: number, done?: () => boolean): boolean {
    for (;;) {
      const next = this.queue.peek()
      if (next === undefined || next.time > until) break
      this.queue.pop()
      this.time = Math.max(this.time, next.time)
      this.deliver(next)
      if (done?.() === true) return true
    }
    this.time = Math.max(this.time, until)
    return false
  }

  run(ms: number): void {
    this.runUntil(this.time + ms)
  }

  /** Runs until `done()` or `ms` passed; returns the time it took, or undefined. */
  runUntilTrue(ms: number, done: () => boolean, step = 5): number | undefined {
    const start = this.time
    while (this.time - start < ms) {
      if (done()) return this.time - start
      this.run(step)
    }
    return done() ? this.time - start : undefined
  }

  crash(i: number, refuses: boolean): void {
    const node = this.nodes[i]!
    node.crashed = true
    node.refuses = refuses
  }

  /** Every connected peer of a crashed node notices the closed connection. */
  noticeClose(i: number, observers: readonly number[]): void {
    for (const j of observers) {
      const node = this.nodes[j]!
      if (node.crashed || node.paused) continue
      node.swim.connectionLost(this.nodes[i]!.id)
      this.flush(j)
    }
  }

  pause(i: number): void {
    this.nodes[i]!.paused = true
  }

  resume(i: number): void {
    const node = this.nodes[i]!
    node.paused = false
    const waiting = node.inbox.splice(0)
    // The process runs its overdue timers first, then reads what queued in its sockets.
    node.scheduledTick = this.time
    this.queue.push({ time: this.time, kind: 'tick', node: i })
    for (const event of waiting) this.queue.push({ ...event, time: this.time })
  }

  /** Splits the cluster: nodes in `sideB` cannot reach the others (floods included). */
  partition(sideB: readonly number[]): void {
    for (const i of sideB) this.nodes[i]!.side = 1
  }

  heal(): void {
    for (const node of this.nodes) node.side = 0
  }

  /** State of `member` as node `observer` sees it. */
  stateAt(observer: number, member: number): MemberState | undefined {
    return this.nodes[observer]!.swim.member(this.nodes[member]!.id)?.state
  }

  /** Live (not crashed) observers other than `member`. */
  observers(member: number): number[] {
    const out: number[] = []
    for (let i = 0; i < this.nodes.length; i++)
      if (i !== member && !this.nodes[i]!.crashed) out.push(i)
    return out
  }

  /**
   * Follows `member` from now on: `seeing(state)` then counts, in O(1), the observers whose
   * latest view of it is `state` (for the benchmark's per-event stop checks at 10,000 nodes).
   */
  watch(member: number): void {
    const id = this.nodes[member]!.id
    const states = this.nodes.map((_, i) => (i === member ? undefined : this.stateAt(i, member)))
    const counts = new Map<string, number>()
    for (const state of states)
      if (state !== undefined) counts.set(state, (counts.get(state) ?? 0) + 1)
    this.watched = { id, states, counts }
  }

  private noteWatched(observer: number, state: MemberState): void {
    const watched = this.watched!
    const before = watched.states[observer]
    if (before !== undefined) watched.counts.set(before, watched.counts.get(before)! - 1)
    watched.states[observer] = state
    watched.counts.set(state, (watched.counts.get(state) ?? 0) + 1)
  }

  /** Live observers whose latest view of the watched member is `state`. */
  seeing(state: MemberState): number {
    return this.watched?.counts.get(state) ?? 0
  }

  /** Runs until `done()` (checked after every event) or `ms` passed; the time it took. */
  runUntilEvent(ms: number, done: () => boolean): number | undefined {
    const start = this.time
    if (done()) return 0
    return this.runUntil(start + ms, done) ? this.time - start : undefined
  }

  everyoneSees(member: number, state: MemberState): boolean {
    return this.observers(member).every((i) => this.stateAt(i, member) === state)
  }

  /** Whether any live observer holds `member` dead (or `state`) right now. */
  anyoneSees(member: number, state: MemberState): boolean {
    return this.observers(member).some((i) => this.stateAt(i, member) === state)
  }
}
