import type { ServiceEvent } from '../../src/agent-api.js'
import type { Claim } from '../../src/claim.js'
import type { Registration } from '../../src/instance.js'
import type { LivenessTimings } from '../../src/liveness-types.js'
import { createRegistryNode } from '../../src/registry-node.js'
import type { RegistryNode } from '../../src/registry-node-types.js'
import type { Delta, Digest, SyncPart } from '../../src/replica-types.js'
import type { Scenario, SimOp } from './ops.js'

/**
 * Short timings, so that `advance` ops hide unconfirmed origins and make tombstones
 * collectable. A heartbeat op stands for membership's facts: the sender is alive.
 */
export const SIM_TIMINGS: LivenessTimings = {
  deadAfter: 500,
  // Purge is out of scope here: a purged origin is re-learned from peers that did not purge yet.
  purgeAfter: 1e12,
}
export const SIM_TOMBSTONE_TTL = 1_000

type Message =
  | { kind: 'delta'; from: number; to: number; delta: Delta }
  | { kind: 'heartbeat'; from: number; to: number; gen: number; hbSeq: number; covered?: number }
  | { kind: 'syn'; from: number; to: number; digest: Digest; asking?: boolean }
  | { kind: 'ack'; from: number; to: number; digest: Digest; parts: SyncPart[]; asking?: boolean }
  | { kind: 'ack2'; from: number; to: number; parts: SyncPart[] }

export interface SimNode {
  readonly id: string
  gen: number
  node: RegistryNode
  /** Own registrations as a disk would keep them (only survive a restart `disk: true`). */
  readonly registrations: Map<string, Registration>
  /** Every view event of the current incarnation, in order. */
  events: ServiceEvent[]
  hbSeq: number
  /** Oracle: the latest write of each id by this node in its current generation. */
  writes: Map<string, Claim>
}

const NAMES = ['api', 'db', 'cache']

/**
 * A pure simulated cluster of `RegistryNode`s on one fake clock. The network is a bag of
 * messages in flight: ops deliver, duplicate or drop any of them (so delivery order is
 * arbitrary), partitions cut links, restarts bring a node back at gen + 1 with or without its
 * registrations. Everything produced (deltas and sync parts) is kept in `trace`.
 */
export class SimCluster {
  readonly nodes: SimNode[] = []
  readonly trace: { deltas: Delta[]; parts: SyncPart[] } = { deltas: [], parts: [] }
  private queue: Message[] = []
  /** Bit i set: node i is on side 1 of the partition; null when healed. */
  private partition: number | null = null
  private time = 1_000
  private readonly budget: number

  constructor(size: number, budget: number) {
    this.budget = budget
    for (let i = 0; i < size; i++) {
      const sim: SimNode = {
        id: `n${i}`,
        gen: 1,
        node: this.spawn(`n${i}`, 1, (event) => sim.events.push(event)),
        registrations: new Map(),
        events: [],
        hbSeq: 0,
        writes: new Map(),
      }
      this.nodes.push(sim)
    }
  }

  static run(scenario: Scenario): SimCluster {
    const cluster = new SimCluster(scenario.nodes, scenario.budget)
    for (const op of scenario.ops) cluster.apply(op)
    return cluster
  }

  get now(): number {
    return this.time
  }

  private spawn(id: string, gen: number, onEvent: (event: ServiceEvent) => void): RegistryNode {
    const node = createRegistryNode({
      nodeId: id,
      gen,
      now: () => this.time,
      timings: SIM_TIMINGS,
      tombstoneTtl: SIM_TOMBSTONE_TTL,
    })
    node.onEvent(onEvent)
    return node
  }

  private at(index: number): SimNode {
    return this.nodes[index % this.nodes.length]!
  }

  private reachable(a: number, b: number): boolean {
    const mask = this.partition
    return mask === null || ((mask >> a) & 1) === ((mask >> b) & 1)
  }

  private send(message: Message): void {
    if (this.reachable(message.from, message.to)) this.queue.push(message)
  }

  private publish(from: SimNode, delta: Delta | undefined): void {
    if (delta === undefined) return
    this.trace.deltas.push(delta)
    for (const claim of delta.claims) from.writes.set(claim.id, claim)
    const index = this.nodes.indexOf(from)
    for (let to = 0; to < this.nodes.length; to++) {
      if (to !== index) this.send({ kind: 'delta', from: index, to, delta })
    }
  }

  private partsFor(sim: SimNode, digest: Digest): SyncPart[] {
    const parts = sim.node.replica.partsFor(digest, this.budget)
    this.trace.parts.push(...parts)
    return parts
  }

  private deliver(message: Message): void {
    // A message in flight across a partition that formed meanwhile is lost.
    if (!this.reachable(message.from, message.to)) return
    const to = this.nodes[message.to]!
    switch (message.kind) {
      case 'delta':
        to.node.applyDelta(message.delta)
        return
      case 'heartbeat': {
        const origin = this.nodes[message.from]!.id
        to.node.memberFact(origin, 'alive', message.gen, message.covered)
        // As the gossip node does: an origin back from dead is asked what it holds, or
        // pulled from when it said and this node lacks it.
        if (to.node.holds(origin)) this.syn(message.to, message.from)
        return
      }
      case 'syn':
        this.send({
          kind: 'ack',
          from: message.to,
          to: message.from,
          digest: to.node.replica.digest(),
          parts: this.partsFor(to, message.digest),
          ...(message.asking === true && { asking: true }),
        })
        return
      case 'ack':
        for (const part of message.parts) to.node.applyPart(part, this.via(message.from, part))
        if (message.asking === true) this.heard(to, this.nodes[message.from]!, message.digest)
        this.send({
          kind: 'ack2',
          from: message.to,
          to: message.from,
          parts: this.partsFor(to, message.digest),
        })
        return
      case 'ack2':
        for (const part of message.parts) to.node.applyPart(part, this.via(message.from, part))
        return
    }
  }

  /** A SYN from `a` to `b`; asking when `a` waits for `b`'s word (see `awaitsOrigin`). */
  private syn(a: number, b: number): void {
    const from = this.nodes[a]!
    const asking = from.node.awaitsOrigin(this.nodes[b]!.id)
    this.send({
      kind: 'syn',
      from: a,
      to: b,
      digest: from.node.replica.digest(),
      ...(asking && { asking: true }),
    })
  }

  /** `origin`'s word on what it holds, from its digest, as the sync protocol passes it on. */
  private heard(to: SimNode, origin: SimNode, digest: Digest): void {
    const own = Object.hasOwn(digest, origin.id) ? digest[origin.id] : undefined
    to.node.originAdvert(
      origin.id,
      own?.gen ?? to.node.liveness.gen(origin.id) ?? 0,
      own?.covered ?? 0,
    )
  }

  /** A part sent by node `from` is relayed unless `from` is its origin (see `PartOptions`). */
  private via(from: number, part: SyncPart): { relayed: boolean } {
    return { relayed: part.origin !== this.nodes[from]!.id }
  }

  private take(k: number, remove: boolean): Message | undefined {
    if (this.queue.length === 0) return undefined
    const index = k % this.queue.length
    const message = this.queue[index]!
    if (remove) this.queue.splice(index, 1)
    return message
  }

  private ownsLive(sim: SimNode, id: string): boolean {
    return sim.node.localInstances().some((instance) => instance.id === id)
  }

  apply(op: SimOp): void {
    switch (op.t) {
      case 'register': {
        const sim = this.at(op.node)
        const index = this.nodes.indexOf(sim)
        const registration: Registration = {
          id: `i${op.id}`,
          name: NAMES[op.name]!,
          version: `v${op.variant}`,
          metadata: { variant: String(op.variant) },
          endpoints: [`http://10.0.0.${index + 1}:${8000 + op.variant}`],
          tags: op.variant % 2 === 0 ? ['even'] : [],
          status: op.status,
        }
        sim.registrations.set(`i${op.id}`, registration)
        this.publish(sim, sim.node.register(registration).delta)
        return
      }
      case 'deregister': {
        const sim = this.at(op.node)
        const id = `i${op.id}`
        if (!this.ownsLive(sim, id)) return
        sim.registrations.delete(id)
        this.publish(sim, sim.node.deregister(id))
        return
      }
      case 'setStatus': {
        const sim = this.at(op.node)
        const id = `i${op.id}`
        if (!this.ownsLive(sim, id)) return
        const saved = sim.registrations.get(id)
        if (saved !== undefined) saved.status = op.status
        this.publish(sim, sim.node.setStatus(id, op.status))
        return
      }
      case 'restamp': {
        const sim = this.at(op.node)
        this.publish(sim, sim.node.restamp())
        return
      }
      case 'deliver': {
        const message = this.take(op.k, true)
        if (message !== undefined) this.deliver(message)
        return
      }
      case 'duplicate': {
        const message = this.take(op.k, false)
        if (message !== undefined) this.deliver(message)
        return
      }
      case 'drop':
        this.take(op.k, true)
        return
      case 'sync': {
        const a = op.a % this.nodes.length
        const b = op.b % this.nodes.length
        if (a !== b) this.syn(a, b)
        return
      }
      case 'exchange': {
        // One SYN/ACK/ACK2 round at once, as the sync protocol runs it on a stream.
        const a = op.a % this.nodes.length
        const b = op.b % this.nodes.length
        if (a === b || !this.reachable(a, b)) return
        const [first, second] = [this.nodes[a]!, this.nodes[b]!]
        const asking = first.node.awaitsOrigin(second.id)
        const want = second.node.replica.digest()
        const ack = this.partsFor(second, first.node.replica.digest())
        for (const part of ack) first.node.applyPart(part, this.via(b, part))
        if (asking) this.heard(first, second, want)
        for (const part of this.partsFor(first, second.node.replica.digest())) {
          second.node.applyPart(part, this.via(a, part))
        }
        return
      }
      case 'heartbeat': {
        const sim = this.at(op.node)
        const from = this.nodes.indexOf(sim)
        sim.hbSeq++
        const covered = sim.node.replica.origin(sim.id)?.covered ?? 0
        for (let to = 0; to < this.nodes.length; to++) {
          if (to === from) continue
          const heartbeat = { kind: 'heartbeat', from, to, gen: sim.gen, hbSeq: sim.hbSeq } as const
          this.send(op.states ? { ...heartbeat, covered } : heartbeat)
        }
        return
      }
      case 'disconnect': {
        const a = this.at(op.a)
        const b = this.at(op.b)
        if (a !== b) b.node.memberFact(a.id, 'suspect', a.gen)
        return
      }
      case 'partition':
        this.partition = op.mask & ((1 << this.nodes.length) - 1)
        return
      case 'heal':
        this.partition = null
        return
      case 'restart': {
        const sim = this.at(op.node)
        sim.node.close()
        sim.gen++
        sim.hbSeq = 0
        sim.events = []
        sim.writes = new Map()
        sim.node = this.spawn(sim.id, sim.gen, (event) => sim.events.push(event))
        if (!op.disk) sim.registrations.clear()
        for (const registration of sim.registrations.values()) {
          this.publish(sim, sim.node.register(registration).delta)
        }
        return
      }
      case 'advance':
        this.time += op.ms
        for (const sim of this.nodes) sim.node.tick()
        return
    }
  }

  /**
   * The end of every run: heal, drop what is in flight, then full pairwise syncs until no
   * node has anything for another, then every node hears every other (so all agree on
   * liveness). Returns the number of sync passes.
   */
  converge(): number {
    this.partition = null
    this.queue = []
    let passes = 0
    for (;;) {
      let sent = 0
      for (const from of this.nodes) {
        for (const to of this.nodes) {
          if (from === to) continue
          for (const part of this.partsFor(from, to.node.replica.digest())) {
            to.node.applyPart(part, { relayed: part.origin !== from.id })
            sent++
          }
        }
      }
      if (sent === 0) break
      if (++passes > 500) throw new Error('pairwise syncs do not quiesce')
    }
    for (const from of this.nodes) {
      from.hbSeq++
      for (const to of this.nodes) {
        if (from === to) continue
        to.node.memberFact(from.id, 'alive', from.gen)
        // Asked and answered at once: everything is delivered by now.
        if (to.node.awaitsOrigin(from.id)) this.heard(to, from, from.node.replica.digest())
      }
    }
    for (const sim of this.nodes) sim.node.tick()
    return passes
  }

  /** Moves the clock past the tombstone TTL and collects garbage on every replica. */
  collectAllGarbage(): void {
    this.time += SIM_TOMBSTONE_TTL
    for (const sim of this.nodes) sim.node.replica.collectGarbage()
  }
}
