import type { MemberFact, MemberRecord, MemberView } from '@grapevine/core'

/**
 * The seam between the network and membership: who is in the cluster and in what state.
 * The gossip node feeds it connection events and member records from pubsub, and passes
 * its facts to the registry; what decides liveness lives behind it (SWIM with Lifeguard,
 * `swim-membership.ts`).
 */

/**
 * A member as this node sees it: core's view of the SWIM state machine's entry, unchanged.
 * `name` is the member's node name and `addrs` the multiaddrs it announced in its ALIVE;
 * `since` is when this node saw it enter its state (monotonic ms).
 */
export type MemberInfo = MemberView

/** Events of a membership, by name. */
export interface MembershipEvents {
  /**
   * A member changed state (or announced new addresses), e.g.
   * `{ id: '12D3…', state: 'dead', gen: 3, name: 'web-1', addrs: [...] }`.
   */
  change: MemberFact
}

export interface MembershipStats {
  readonly messagesIn: number
  readonly messagesOut: number
  readonly bytesIn: number
  readonly bytesOut: number
  /** Of the messages, those that went (or came) as UDP datagrams rather than on a stream. */
  readonly datagramsIn: number
  readonly datagramsOut: number
  readonly probes: number
  readonly failedProbes: number
  readonly suspicions: number
  readonly refutations: number
  /** Members this node declared dead. */
  readonly deaths: number
  /** Local health score (0 is healthy; higher stretches this node's timeouts). */
  readonly health: number
}

export interface Membership {
  /** Starts probing and announces this node (after the host started). */
  start(): Promise<void>
  stop(): Promise<void>
  /** Floods this node's LEFT; resolves once handed to peers (bounded). */
  leave(): Promise<void>
  /** Every member known, this node excluded. */
  members(): MemberInfo[]
  member(id: string): MemberInfo | undefined
  on<K extends keyof MembershipEvents>(
    event: K,
    listener: (payload: MembershipEvents[K]) => void,
  ): () => void
  /** A direct connection to `peer` opened. */
  connected(peer: string): void
  /** A direct connection to `peer` closed (a crash shows here first). */
  disconnected(peer: string): void
  /** A member record that came on the pubsub topic, its publisher already checked. */
  record(record: MemberRecord): void
  /**
   * Tells the cluster again that this node is alive (the driver calls it once this node
   * has peers to hear it; the announcement at `start()` reached no one).
   */
  announce(): void
  stats(): MembershipStats
}
