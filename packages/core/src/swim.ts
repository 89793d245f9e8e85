import type { MemberState } from './agent-api.js'
import { Awareness } from './awareness.js'
import { memberRecordBytes } from './member-record-bytes.js'
import { addTag, memberTablePart, subtractTag } from './member-table-tag.js'
import {
  type AliveRecord,
  approximateRecordBytes,
  type MemberFact,
  type MemberRecord,
  type SwimMessage,
  type SwimOutgoing,
  type SwimTimings,
  type UnsignedMemberRecord,
} from './membership-types.js'
import { RetransmitQueue, retransmitLimit } from './retransmit-queue.js'
import type { Signer } from './signing.js'
import { Suspicion, suspicionTimeout } from './suspicion.js'

/**
 * SWIM failure detection with Lifeguard's refinements, as a pure state machine (the
 * reference is hashicorp/memberlist: `state.go`, `suspicion.go`, `awareness.go`). Time and
 * randomness are injected; the driver feeds it messages, records and `tick()`s, and sends
 * what `drain()` returns. This file is longer than most because the protocol's rules are
 * one piece: probing, suspicion, refutation and dissemination each change the others' input.
 *
 * - Every `probeInterval` one member is pinged (round-robin over a random permutation, so
 *   every member is probed within n periods). No ack within `probeTimeout`: `indirectChecks`
 *   random members are asked to ping it (PING-REQ) and relay the ack, or a NACK if they got
 *   none. No ack by the end of the period: the member is suspected.
 * - A suspicion is a signed SUSPECT record, flooded by the accuser and piggybacked by all.
 *   Its timeout starts at `max` and shrinks with each independent accuser (`suspicion.ts`);
 *   when it runs out the member is DEAD, flooded by the first member whose random hold
 *   (under a period) ends before another's DEAD reached it. A member that learns it is suspected (or declared
 *   dead) refutes with a signed ALIVE of a higher incarnation, which beats both.
 * - Local health (`awareness.ts`): failed probes whose helpers did not NACK, having to
 *   refute, and late ticks raise this node's score; every timeout it applies stretches by
 *   `score + 1`. When a tick comes late, due deadlines are pushed back a little so that acks
 *   and refutations already waiting in the sockets are read before anyone is accused.
 * - Dissemination: every message piggybacks up to `maxPiggyback` records, least-sent first,
 *   each sent `retransmitMult · ceil(log10(n + 1))` times. Records this node originates are
 *   also returned as `floods`, which the driver publishes cluster-wide at once.
 * - A member we think suspect or dead that talks to us gets that record back first, so a
 *   paused node that resumes learns at once that it must refute. One dead member is pinged
 *   every `reconnectInterval`, which heals partitions.
 */

export interface SwimInit {
  readonly self: string
  readonly gen: number
  readonly name: string
  readonly addrs: readonly string[]
  /** The cluster name, part of every signature's bytes. */
  readonly cluster: string
  /** Monotonic milliseconds. */
  now(): number
  /** Uniform in [0, 1). */
  random(): number
  readonly timings: SwimTimings
  readonly signer: Signer
  /** Dead and left members are forgotten after this many ms (the registry purges then too). */
  readonly purgeAfter: number
  /** Most records piggybacked on one message. @default 8 */
  readonly maxPiggyback?: number
  /**
   * Most bytes of records piggybacked on one message, as `approximateRecordBytes` counts
   * them: the driver sets it so that a probe fits one datagram. @default unbounded
   */
  readonly maxPiggybackBytes?: number
  /**
   * Members every node starts with, shared read-only between state machines: lets a
   * simulation run 10,000 nodes without 10,000² member entries. Entries are materialized
   * when first touched. @default none
   */
  readonly roster?: Roster
  /**
   * How far this node has written in its generation (its replica's own `covered`), stated
   * in every ALIVE it signs: a member that thought it dead can then show its claims again
   * without a session with it. @default not stated
   */
  covered?(): number
}

export interface Roster {
  readonly ids: readonly string[]
  alive(id: string): AliveRecord | undefined
  /** Σ `memberTablePart` of every member's ALIVE, so no machine sums 10,000 of them. */
  readonly tableSum: number
}

export interface SwimOutput {
  readonly messages: SwimOutgoing[]
  /** Records this node originated: publish them to the whole cluster now. */
  readonly floods: MemberRecord[]
  /** State changes for the registry, in order. */
  readonly facts: MemberFact[]
}

export interface MemberView {
  readonly id: string
  readonly state: MemberState
  readonly gen: number
  readonly incarnation: number
  readonly name: string
  readonly addrs: readonly string[]
  /** When this node saw the member enter its state (local clock). */
  readonly since: number
}

export interface SwimStats {
  readonly sent: Readonly<Record<SwimMessage['kind'], number>>
  readonly received: Readonly<Record<SwimMessage['kind'], number>>
  readonly probes: number
  readonly failedProbes: number
  readonly suspicions: number
  readonly refutations: number
  readonly deaths: number
}

export interface Swim {
  readonly self: string
  readonly incarnation: number
  /** Local health score (0 = healthy). */
  readonly health: number
  /** Announces this node (its ALIVE is flooded) and starts probing. */
  start(): void
  receive(from: string, message: SwimMessage): void
  /** A record that came another way (pubsub), its signature already checked. */
  receiveRecord(record: MemberRecord): void
  /** `message` could not be delivered to `to` (dial refused, stream reset). */
  undeliverable(to: string, message: SwimMessage): void
  /** A direct connection to `peer` closed: probe it now rather than in its turn. */
  connectionLost(peer: string): void
  /** A direct connection to `peer` opened: exchange tables if we do not know each other. */
  connected(peer: string): void
  /** New addresses: a new ALIVE at the next incarnation. */
  updateAddresses(addrs: readonly string[]): void
  /**
   * Floods this node's current ALIVE again. The driver calls it once the cluster can hear
   * it: the flood at `start()` goes out before any peer is connected.
   */
  announce(): void
  /** Marks this node as leaving; its LEFT record is flooded. */
  leave(): void
  tick(): void
  /** When `tick()` is next needed. */
  nextDeadline(): number
  drain(): SwimOutput
  member(id: string): MemberView | undefined
  members(): MemberView[]
  stats(): SwimStats
}

interface Entry {
  readonly id: string
  gen: number
  incarnation: number
  state: MemberState
  /** Its latest ALIVE; undefined for a member we only know from its LEFT. */
  alive: AliveRecord | undefined
  /** The record that put the member in its state (its ALIVE when alive). */
  record: MemberRecord
  since: number
  suspicion: Suspicion | undefined
  /** Its share of the member-table tag (`member-table-tag.ts`). */
  tagPart: number
}

interface Probe {
  readonly seq: number
  readonly target: string
  directFailed: boolean
  directDeadline: number
  endDeadline: number
  helpers: number
  nacks: number
}

interface Relay {
  readonly requester: string
  readonly requesterSeq: number
  deadline: number
}

const counters = (): Record<SwimMessage['kind'], number> => ({
  ping: 0,
  ack: 0,
  'ping-req': 0,
  nack: 0,
  state: 0,
})
/**
 * Push-pull skips members whose table tag matched ours; every this many rounds it goes to a
 * random member anyway, a backstop for the odd 32-bit collision.
 */
const PUSH_PULL_BACKSTOP_ROUNDS = 10
const isUp = (state: MemberState): boolean => state === 'alive' || state === 'suspect'

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

export function createSwim(init: SwimInit): Swim {
  const { self, gen, timings, signer, cluster, now, random } = init
  const maxPiggyback = init.maxPiggyback ?? 8
  const piggybackBudget =
    init.maxPiggybackBytes === undefined
      ? undefined
      : { bytes: init.maxPiggybackBytes, sizeOf: approximateRecordBytes }
  const awareness = new Awareness(timings.awarenessMax)
  const queue = new RetransmitQueue<MemberRecord>()
  const entries = new Map<string, Entry>()
  let ids: string[] = init.roster === undefined ? [] : (init.roster.ids as string[])
  let ownIds = init.roster === undefined
  const suspects = new Set<string>()
  const down = new Set<string>()
  const probes = new Map<number, Probe>()
  const relays = new Map<number, Relay>()
  const stateSentAt = new Map<string, number>()
  const heldDeads = new Map<string, { readonly record: MemberRecord; readonly at: number }>()
  let out: SwimOutput = { messages: [], floods: [], facts: [] }
  const sent = counters()
  const received = counters()
  const tally = { probes: 0, failedProbes: 0, suspicions: 0, refutations: 0, deaths: 0 }

  let incarnation = 0
  let leaving = false
  let started = false
  // A random start: an ACK recorded before a restart must not answer a probe after it.
  let seq = Math.floor(random() * 2 ** 31)
  let ownAlive = signAlive(init.addrs)
  let nextProbeAt = 0
  let nextPushPullAt = 0
  let nextReconnectAt = 0
  let pushPullRounds = 0
  /** Σ tagPart over `entries` and the roster's members not yet materialized. */
  let entriesTag = 0
  if (init.roster !== undefined) {
    const own = init.roster.alive(self)
    entriesTag =
      own === undefined
        ? init.roster.tableSum
        : subtractTag(
            init.roster.tableSum,
            memberTablePart(self, own.gen, own.incarnation, 'alive'),
          )
  }
  /** When each member's table tag last matched ours (see `tableTag`). */
  const tableMatchedAt = new Map<string, number>()
  /** This node's own share of the tag, recomputed when its incarnation or state changes. */
  let ownPart = { incarnation: -1, state: 'alive' as MemberState, part: 0 }
  let expectedTick: number | undefined
  let lastReassert = Number.NEGATIVE_INFINITY
  const order = { offset: 0, stride: 1, index: 0, size: -1 }

  function sign<R extends MemberRecord>(unsigned: Omit<R, 'sig'>): R {
    const sig = signer.sign(memberRecordBytes(cluster, unsigned as UnsignedMemberRecord))
    return { ...unsigned, sig } as R
  }

  function signAlive(addrs: readonly string[]): AliveRecord {
    const covered = init.covered?.()
    return sign<AliveRecord>({
      kind: 'alive',
      id: self,
      gen,
      incarnation,
      name: init.name,
      addrs,
      ...(covered !== undefined && { covered }),
    })
  }

  /** Members known, self included (memberlist's estimate counts the dead until reaped). */
  const memberCount = (): number => ids.length + (ownIds ? 1 : 0)
  const limit = (): number => retransmitLimit(timings.retransmitMult, memberCount())

  function entry(id: string): Entry | undefined {
    const known = entries.get(id)
    if (known !== undefined || init.roster === undefined || id === self) return known
    const alive = init.roster.alive(id)
    if (alive === undefined) return undefined
    const fresh: Entry = {
      id,
      gen: alive.gen,
      incarnation: alive.incarnation,
      state: 'alive',
      alive,
      record: alive,
      since: 0,
      suspicion: undefined,
      // Already counted in the roster's sum.
      tagPart: memberTablePart(id, alive.gen, alive.incarnation, 'alive'),
    }
    entries.set(id, fresh)
    return fresh
  }

  function mutableIds(): string[] {
    if (!ownIds) {
      ids = ids.filter((id) => id !== self)
      ownIds = true
    }
    return ids
  }

  function fact(e: Entry): void {
    const covered = e.state === 'alive' ? e.alive?.covered : undefined
    out.facts.push({
      id: e.id,
      state: e.state,
      gen: e.gen,
      name: e.alive?.name ?? '',
      addrs: e.alive?.addrs ?? [],
      ...(covered !== undefined && { covered }),
    })
  }

  function send(to: string, message: SwimMessage): void {
    sent[message.kind]++
    out.messages.push({ to, message })
  }

  /** Records to piggyback to `to`: what we hold against it first (so it can refute). */
  function piggyback(to: string): MemberRecord[] {
    const about = entry(to)
    const first = about !== undefined && (about.state === 'suspect' || about.state === 'dead')
    const records = first ? [about.record] : []
    const budget =
      piggybackBudget === undefined
        ? undefined
        : {
            ...piggybackBudget,
            bytes:
              piggybackBudget.bytes - records.reduce((n, r) => n + approximateRecordBytes(r), 0),
          }
    return records.concat(
      queue.take(maxPiggyback - records.length, limit(), (key) => key === to, budget),
    )
  }

  function setState(e: Entry, state: MemberState, record: MemberRecord): void {
    if (e.state === 'suspect' && state !== 'suspect') suspects.delete(e.id)
    if (isUp(state)) down.delete(e.id)
    else down.add(e.id)
    if (state !== 'suspect') e.suspicion = undefined
    const changed = e.state !== state
    e.state = state
    e.record = record
    if (changed) e.since = now()
    // Every caller has set the new generation and incarnation first.
    entriesTag = subtractTag(entriesTag, e.tagPart)
    e.tagPart = memberTablePart(e.id, e.gen, e.incarnation, state)
    entriesTag = addTag(entriesTag, e.tagPart)
  }

  /** The member-table tag this node sends on direct PINGs and PING_ACKs. */
  function tableTag(): number {
    const state = leaving ? 'left' : 'alive'
    if (ownPart.incarnation !== incarnation || ownPart.state !== state) {
      ownPart = { incarnation, state, part: memberTablePart(self, gen, incarnation, state) }
    }
    return addTag(entriesTag, ownPart.part)
  }

  function heardTable(from: string, tag: number): void {
    if (entry(from) === undefined) return
    if (tag === tableTag()) tableMatchedAt.set(from, now())
    else tableMatchedAt.delete(from)
  }

  function disseminate(record: MemberRecord, flood: boolean): void {
    queue.push(record.id, record)
    if (flood) out.floods.push(record)
  }

  // --- records ------------------------------------------------------------------------------

  function refute(accused: { gen: number; incarnation: number }): void {
    if (leaving || accused.gen !== gen) return
    if (accused.incarnation < incarnation) {
      // Already refuted, but whoever sent this missed it (it was cut off, or the ALIVE ran
      // out of retransmits): pass the current ALIVE on again, flooded at most once a period.
      // If this node wrote since signing it, the accuser may have missed those writes too:
      // a new incarnation states how far they go.
      if (now() - lastReassert >= timings.probeInterval) {
        lastReassert = now()
        if ((init.covered?.() ?? 0) > (ownAlive.covered ?? 0)) {
          incarnation++
          ownAlive = signAlive(ownAlive.addrs)
        }
        out.floods.push(ownAlive)
      }
      queue.push(self, ownAlive)
      return
    }
    incarnation = accused.incarnation + 1
    ownAlive = signAlive(ownAlive.addrs)
    tally.refutations++
    // Being suspected is itself a sign this node may be the slow one (Lifeguard).
    awareness.apply(1)
    disseminate(ownAlive, true)
  }

  function applyAlive(record: AliveRecord): boolean {
    const e = entry(record.id)
    if (e === undefined) {
      const fresh: Entry = {
        id: record.id,
        gen: record.gen,
        incarnation: record.incarnation,
        state: 'alive',
        alive: record,
        record,
        since: now(),
        suspicion: undefined,
        tagPart: memberTablePart(record.id, record.gen, record.incarnation, 'alive'),
      }
      entries.set(record.id, fresh)
      entriesTag = addTag(entriesTag, fresh.tagPart)
      mutableIds().push(record.id)
      order.size = -1
      fact(fresh)
      return true
    }
    if (record.gen < e.gen) return false
    if (record.gen === e.gen) {
      if (e.state === 'left' || record.incarnation <= e.incarnation) return false
    }
    e.gen = record.gen
    e.incarnation = record.incarnation
    e.alive = record
    setState(e, 'alive', record)
    fact(e)
    return true
  }

  function startSuspicion(e: Entry, accuser: string): void {
    const n = memberCount()
    // Expected confirmations: none if the cluster has nobody besides us and the suspect.
    const k = n - 2 < timings.indirectChecks ? 0 : timings.indirectChecks
    const min = awareness.scale(suspicionTimeout(timings.suspicionMult, n, timings.probeInterval))
    e.suspicion = new Suspicion(accuser, now(), k, min, min * timings.suspicionMaxMult)
    suspects.add(e.id)
    tally.suspicions++
  }

  function applyAccusation(record: MemberRecord & { kind: 'suspect' | 'dead' }): boolean {
    const e = entry(record.id)
    if (e === undefined || record.gen !== e.gen || record.incarnation < e.incarnation) return false
    if (record.kind === 'suspect') {
      if (e.suspicion !== undefined) {
        // Another accuser: a confirmation shortens the timeout, and others should hear of it.
        return e.suspicion.confirm(record.from)
      }
      if (e.state !== 'alive') return false
      e.incarnation = record.incarnation
      setState(e, 'suspect', record)
      startSuspicion(e, record.from)
      fact(e)
      // A member that learns of a suspicion probes the suspect itself with a small
      // probability (about `indirectChecks` members cluster-wide), so a dead member gathers
      // its confirmations within a period or two instead of waiting for its turn.
      const chance = Math.min(1, timings.indirectChecks / Math.max(1, memberCount() - 2))
      if (record.from !== self && random() < chance) probe(e.id)
      return true
    }
    if (!isUp(e.state)) return false
    e.incarnation = record.incarnation
    setState(e, 'dead', record)
    tally.deaths++
    fact(e)
    return true
  }

  function applyLeft(record: MemberRecord & { kind: 'left' }): boolean {
    const e = entry(record.id)
    if (e === undefined) {
      // Signed by the member itself, so it counts even before its ALIVE reached us (a node
      // that leaves right after joining): its claims must go as `left`, not linger.
      const fresh: Entry = {
        id: record.id,
        gen: record.gen,
        incarnation: record.incarnation,
        state: 'left',
        alive: undefined,
        record,
        since: now(),
        suspicion: undefined,
        tagPart: memberTablePart(record.id, record.gen, record.incarnation, 'left'),
      }
      entries.set(record.id, fresh)
      entriesTag = addTag(entriesTag, fresh.tagPart)
      mutableIds().push(record.id)
      down.add(record.id)
      order.size = -1
      fact(fresh)
      return true
    }
    if (record.gen < e.gen || e.state === 'left') return false
    if (record.gen > e.gen) {
      e.gen = record.gen
      e.incarnation = record.incarnation
    }
    setState(e, 'left', record)
    fact(e)
    return true
  }

  /** Applies a record; true if it was news (and so is passed on). */
  function apply(record: MemberRecord): boolean {
    if (record.id === self) {
      if (record.kind === 'suspect' || record.kind === 'dead') refute(record)
      return false
    }
    switch (record.kind) {
      case 'alive':
        return applyAlive(record)
      case 'suspect':
      case 'dead':
        return applyAccusation(record)
      case 'left':
        return applyLeft(record)
    }
  }

  function learn(record: MemberRecord): void {
    if (record.kind === 'dead') {
      // Someone else's DEAD of the same life is out: ours need not be flooded too.
      const held = heldDeads.get(record.id)
      if (
        held !== undefined &&
        held.record.gen === record.gen &&
        held.record.incarnation <= record.incarnation
      ) {
        heldDeads.delete(record.id)
      }
    }
    if (apply(record)) disseminate(record, false)
  }

  function accuse(e: Entry): void {
    const record = sign<MemberRecord & { kind: 'suspect' }>({
      kind: 'suspect',
      id: e.id,
      gen: e.gen,
      incarnation: e.incarnation,
      from: self,
    })
    if (apply(record)) disseminate(record, true)
  }

  function declareDead(e: Entry): void {
    const record = sign<MemberRecord & { kind: 'dead' }>({
      kind: 'dead',
      id: e.id,
      gen: e.gen,
      incarnation: e.incarnation,
      from: self,
    })
    if (!apply(record)) return
    // Flooded suspicions start every member's timer within milliseconds of each other, so
    // all n would flood a DEAD at once: n² copies per crash. Each holds its flood for a
    // random part of a period and drops it if another member's DEAD arrives first; the
    // first flood still goes out within a fraction of a period, and piggyback carries ours.
    disseminate(record, false)
    heldDeads.set(e.id, { record, at: now() + random() * timings.probeInterval })
  }

  // --- probing ------------------------------------------------------------------------------

  function reshuffle(size: number): void {
    order.size = size
    order.index = 0
    order.offset = Math.floor(random() * size)
    let stride = 1 + Math.floor(random() * Math.max(1, size - 1))
    while (size > 1 && gcd(stride, size) !== 1) stride = (stride % (size - 1)) + 1
    order.stride = stride
  }

  const probing = (id: string): boolean => [...probes.values()].some((p) => p.target === id)

  function nextTarget(): string | undefined {
    const size = ids.length
    for (let tries = 0; tries < size; tries++) {
      if (order.size !== size || order.index >= size) reshuffle(size)
      const id = ids[(order.offset + order.index * order.stride) % size]!
      order.index++
      if (id === self) continue
      const e = entry(id)
      if (e !== undefined && isUp(e.state) && !probing(id)) return id
    }
    return undefined
  }

  /** Up to `count` random up members other than `exclude` that `accept` (a few tries each). */
  function randomMembers(
    count: number,
    exclude: string,
    accept: (id: string) => boolean = () => true,
  ): string[] {
    const picked = new Set<string>()
    const size = ids.length
    for (let tries = 0; tries < count * 4 + 8 && picked.size < count && size > 0; tries++) {
      const id = ids[Math.floor(random() * size)]!
      if (id === self || id === exclude || picked.has(id)) continue
      const e = entry(id)
      if (e !== undefined && isUp(e.state) && accept(id)) picked.add(id)
    }
    return [...picked]
  }

  function probe(target: string): void {
    const time = now()
    const timeout = awareness.scale(timings.probeTimeout)
    const p: Probe = {
      seq: ++seq,
      target,
      directFailed: false,
      directDeadline: time + timeout,
      endDeadline: time + Math.max(awareness.scale(timings.probeInterval), 2 * timeout),
      helpers: 0,
      nacks: 0,
    }
    probes.set(p.seq, p)
    tally.probes++
    send(target, {
      kind: 'ping',
      seq: p.seq,
      target,
      updates: piggyback(target),
      table: tableTag(),
    })
  }

  function goIndirect(p: Probe): void {
    p.directFailed = true
    const helpers = randomMembers(timings.indirectChecks, p.target)
    p.helpers = helpers.length
    for (const helper of helpers) {
      send(helper, { kind: 'ping-req', seq: p.seq, target: p.target, updates: piggyback(helper) })
    }
    if (helpers.length === 0) failProbe(p)
  }

  function failProbe(p: Probe): void {
    probes.delete(p.seq)
    tally.failedProbes++
    // Helpers that NACKed are working, so the target is the likely culprit; helpers that
    // stayed silent suggest this node is the one cut off or starved (memberlist's rule).
    awareness.apply(p.helpers > 0 ? p.helpers - p.nacks : 1)
    const e = entry(p.target)
    if (e !== undefined && isUp(e.state)) accuse(e)
  }

  function completeProbe(p: Probe): void {
    probes.delete(p.seq)
    awareness.apply(-1)
  }

  // --- messages -----------------------------------------------------------------------------

  function sendState(to: string, reply: boolean): void {
    stateSentAt.set(to, now())
    const records: MemberRecord[] = [ownAlive]
    for (const id of ids) {
      if (id === self) continue
      const e = entry(id)
      if (e === undefined) continue
      if (e.alive !== undefined) records.push(e.alive)
      if (e.record !== e.alive) records.push(e.record)
    }
    send(to, { kind: 'state', reply, records })
  }

  const sentStateRecently = (to: string): boolean =>
    now() - (stateSentAt.get(to) ?? Number.NEGATIVE_INFINITY) < timings.probeInterval

  function receive(from: string, message: SwimMessage): void {
    received[message.kind]++
    if (message.kind === 'state') {
      for (const record of message.records) learn(record)
      if (message.reply && !sentStateRecently(from)) sendState(from, false)
      return
    }
    for (const record of message.updates) learn(record)
    if ((message.kind === 'ping' || message.kind === 'ack') && message.table !== undefined) {
      heardTable(from, message.table)
    }
    // A member we have never heard of talks to us: we missed its ALIVE; trade tables.
    if (from !== self && entry(from) === undefined && !sentStateRecently(from)) {
      sendState(from, true)
    }
    switch (message.kind) {
      case 'ping':
        if (message.target !== self) return
        send(from, { kind: 'ack', seq: message.seq, updates: piggyback(from), table: tableTag() })
        return
      case 'ping-req': {
        const relaySeq = ++seq
        relays.set(relaySeq, {
          requester: from,
          requesterSeq: message.seq,
          deadline: now() + awareness.scale(timings.probeTimeout),
        })
        send(message.target, {
          kind: 'ping',
          seq: relaySeq,
          target: message.target,
          updates: piggyback(message.target),
          table: tableTag(),
        })
        return
      }
      case 'ack': {
        const relay = relays.get(message.seq)
        if (relay !== undefined) {
          relays.delete(message.seq)
          send(relay.requester, {
            kind: 'ack',
            seq: relay.requesterSeq,
            updates: piggyback(relay.requester),
            table: tableTag(),
          })
          return
        }
        const p = probes.get(message.seq)
        if (p !== undefined && (from === p.target || p.directFailed)) completeProbe(p)
        return
      }
      case 'nack': {
        const p = probes.get(message.seq)
        if (p === undefined || !p.directFailed) return
        p.nacks++
        if (p.nacks >= p.helpers) failProbe(p)
        return
      }
    }
  }

  function undeliverable(to: string, message: SwimMessage): void {
    if (message.kind === 'ping') {
      const relay = relays.get(message.seq)
      if (relay !== undefined) {
        relays.delete(message.seq)
        send(relay.requester, {
          kind: 'nack',
          seq: relay.requesterSeq,
          updates: piggyback(relay.requester),
        })
        return
      }
      const p = probes.get(message.seq)
      if (p !== undefined && p.target === to && !p.directFailed) goIndirect(p)
      return
    }
    if (message.kind === 'ping-req') {
      const p = probes.get(message.seq)
      if (p === undefined) return
      p.helpers--
      if (p.nacks >= p.helpers) failProbe(p)
    }
  }

  // --- time ---------------------------------------------------------------------------------

  function tick(): void {
    const time = now()
    // Our own stall is not their silence: a tick this late means acks and refutations may be
    // waiting unread. Due deadlines move a little past now (the driver reads its sockets
    // before the next tick) and this node's health score rises.
    const late = expectedTick !== undefined && time - expectedTick > timings.probeTimeout / 2
    const grace = time + timings.probeTimeout / 2
    if (late) awareness.apply(1)
    for (const p of [...probes.values()]) {
      if (!p.directFailed && time >= p.directDeadline) {
        if (late) p.directDeadline = grace
        else goIndirect(p)
      }
      if (probes.has(p.seq) && time >= p.endDeadline) {
        if (late) p.endDeadline = Math.max(grace, p.endDeadline)
        else failProbe(p)
      }
    }
    for (const [relaySeq, relay] of relays) {
      if (time < relay.deadline) continue
      relays.delete(relaySeq)
      send(relay.requester, {
        kind: 'nack',
        seq: relay.requesterSeq,
        updates: piggyback(relay.requester),
      })
    }
    for (const id of [...suspects]) {
      const e = entries.get(id)
      if (e?.suspicion === undefined) {
        suspects.delete(id)
        continue
      }
      if (time < e.suspicion.deadline) continue
      if (late) e.suspicion.postpone(grace)
      else declareDead(e)
    }
    for (const [id, held] of heldDeads) {
      if (time < held.at) continue
      heldDeads.delete(id)
      if (entries.get(id)?.state === 'dead') out.floods.push(held.record)
    }
    if (started && !leaving && time >= nextProbeAt) {
      nextProbeAt = time + awareness.scale(timings.probeInterval)
      const target = nextTarget()
      if (target !== undefined) probe(target)
    }
    if (started && time >= nextPushPullAt) {
      nextPushPullAt = time + timings.pushPullInterval * (0.75 + random() * 0.5)
      pushPullRounds++
      const backstop = pushPullRounds % PUSH_PULL_BACKSTOP_ROUNDS === 0
      // A member whose table matched ours within the period has nothing for us, nor we for it.
      const differs = (id: string): boolean =>
        time - (tableMatchedAt.get(id) ?? Number.NEGATIVE_INFINITY) >= timings.pushPullInterval
      const [peer] = randomMembers(1, self, backstop ? undefined : differs)
      if (peer !== undefined) sendState(peer, true)
    }
    if (started && time >= nextReconnectAt) {
      nextReconnectAt = time + timings.reconnectInterval
      if (down.size > 0) reconnectAndReap(time)
    }
  }

  function reconnectAndReap(time: number): void {
    const dead: Entry[] = []
    for (const id of down) {
      const e = entries.get(id)
      if (e === undefined) continue
      if (time - e.since > init.purgeAfter) {
        entries.delete(id)
        down.delete(id)
        tableMatchedAt.delete(id)
        entriesTag = subtractTag(entriesTag, e.tagPart)
        ids = mutableIds().filter((other) => other !== id)
        order.size = -1
      } else if (e.state === 'dead') {
        dead.push(e)
      }
    }
    const target = dead[Math.floor(random() * dead.length)]
    // Not a probe: no suspicion follows if it fails; an answer carries its refutation.
    if (target !== undefined) {
      send(target.id, {
        kind: 'ping',
        seq: ++seq,
        target: target.id,
        updates: piggyback(target.id),
        table: tableTag(),
      })
    }
  }

  function nextDeadline(): number {
    // With no member down there is nothing to reconnect or reap: that round needs no wake-up
    // of its own, and the probe ticks keep moving it forward.
    const reconnectAt = down.size > 0 ? nextReconnectAt : Infinity
    let next = started ? Math.min(nextProbeAt, nextPushPullAt, reconnectAt) : Infinity
    for (const p of probes.values()) {
      next = Math.min(next, p.directFailed ? p.endDeadline : p.directDeadline)
    }
    for (const relay of relays.values()) next = Math.min(next, relay.deadline)
    for (const held of heldDeads.values()) next = Math.min(next, held.at)
    for (const id of suspects) {
      const deadline = entries.get(id)?.suspicion?.deadline
      if (deadline !== undefined) next = Math.min(next, deadline)
    }
    return next
  }

  function view(e: Entry): MemberView {
    return {
      id: e.id,
      state: e.state,
      gen: e.gen,
      incarnation: e.incarnation,
      name: e.alive?.name ?? '',
      addrs: e.alive?.addrs ?? [],
      since: e.since,
    }
  }

  return {
    self,
    get incarnation() {
      return incarnation
    },
    get health() {
      return awareness.score
    },
    start() {
      if (started) return
      started = true
      const time = now()
      // Spread the first probe and push-pull over a period so a cluster started at once
      // does not probe in lockstep.
      nextProbeAt = time + random() * timings.probeInterval
      nextPushPullAt = time + timings.pushPullInterval * (0.5 + random() * 0.5)
      nextReconnectAt = time + timings.reconnectInterval
      disseminate(ownAlive, true)
      expectedTick = undefined
    },
    receive,
    receiveRecord: learn,
    undeliverable,
    connectionLost(peer) {
      const e = entry(peer)
      if (e !== undefined && isUp(e.state) && !probing(peer) && !leaving) probe(peer)
    },
    connected(peer) {
      if (entry(peer) === undefined && !sentStateRecently(peer)) sendState(peer, true)
    },
    announce() {
      if (started && !leaving) out.floods.push(ownAlive)
    },
    updateAddresses(addrs) {
      if (leaving) return
      incarnation++
      ownAlive = signAlive(addrs)
      if (started) disseminate(ownAlive, true)
    },
    leave() {
      if (leaving) return
      leaving = true
      const record = sign<MemberRecord & { kind: 'left' }>({
        kind: 'left',
        id: self,
        gen,
        incarnation,
      })
      disseminate(record, true)
    },
    tick,
    nextDeadline() {
      expectedTick = nextDeadline()
      return expectedTick
    },
    drain() {
      const result = out
      out = { messages: [], floods: [], facts: [] }
      return result
    },
    member(id) {
      const e = entry(id)
      return e === undefined ? undefined : view(e)
    },
    members() {
      const list: MemberView[] = []
      for (const id of ids) {
        const e = id === self ? undefined : entry(id)
        if (e !== undefined) list.push(view(e))
      }
      return list
    },
    stats: () => ({
      sent: { ...sent },
      received: { ...received },
      ...tally,
    }),
  }
}
