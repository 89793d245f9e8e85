import type { Registration, ServiceInstance } from './instance.js'

/** Filters for `service(name, query)`. Every given filter must match. */
export interface ServiceQuery {
  /** Instances carrying every one of these tags. */
  tags?: readonly string[]
  /** Exact version string. */
  version?: string
  /** Instances whose metadata has each of these key/value pairs. */
  metadata?: Readonly<Record<string, string>>
  /**
   * Include `critical` instances. By default queries and watchers return only `passing` and
   * `warning` instances, so callers reach only instances that work.
   * @default false
   */
  includeCritical?: boolean
}

export type EventOp = 'add' | 'update' | 'delete'

/**
 * Why an instance changed:
 * - `registered`: its owner registered or re-registered it (add, or update in place)
 * - `deregistered`: its owner deregistered it
 * - `expired`: its owner stopped answering (dead), or restarted without it
 * - `left`: its owner left the cluster gracefully
 * - `superseded`: another node's claim on the same id won (an instance moved)
 * - `health`: its status (passing / warning / critical) or a check's state changed
 */
export type EventCause =
  | 'registered'
  | 'deregistered'
  | 'expired'
  | 'left'
  | 'superseded'
  | 'health'

/** One change to the resolved view. For `delete`, `instance` is the last version seen. */
export interface ServiceEvent {
  readonly op: EventOp
  readonly instance: ServiceInstance
  readonly cause: EventCause
}

/**
 * go-kratos watcher semantics: the first `next()` resolves at once with the current list when
 * it is not empty; each later call resolves on the next change (at once if one happened since
 * the previous call returned); after `stop()`, pending and later calls reject with
 * `WatcherClosedError`.
 */
export interface Watcher {
  next(): Promise<ServiceInstance[]>
  stop(): Promise<void>
}

/** The go-kratos `Registrar` shape. */
export interface Registrar {
  /** Registers (or re-registers, with a known id) an instance owned by this node; returns its id. */
  register(registration: Registration): Promise<string>
  /** Removes an instance this node registered. Throws `NotFoundError` for an unknown id. */
  deregister(id: string): Promise<void>
}

/** The go-kratos `Discovery` shape, answered from the local replica. */
export interface Discovery {
  getService(name: string): readonly ServiceInstance[]
  watch(name: string, query?: ServiceQuery): Watcher
}

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'

export interface Member {
  readonly id: string
  /**
   * The member's node name (`--node-name`, `nodeName`; the host name by default). Absent when
   * this node has not learnt it yet: show the peer id then.
   */
  readonly name?: string
  readonly addresses: readonly string[]
  readonly state: MemberState
  readonly gen: number
  /**
   * Milliseconds since membership last changed the member's state (alive, suspect…), so for
   * a dead member how long it has been dead; null if unknown.
   */
  readonly lastHeardMsAgo: number | null
  /** True for the agent's own entry. */
  readonly self: boolean
}

/** An instance id that several live nodes claim concurrently; every replica picks the same winner. */
export interface Conflict {
  readonly id: string
  readonly winner: ServiceInstance
  /** The node ids whose concurrent claims are live, winner first. */
  readonly claimants: readonly string[]
}

/** The public interface of every Grapevine agent, networked or local. */
export interface Agent extends Registrar, Discovery {
  /** This node's id (its libp2p peer id for a networked agent). */
  readonly peerId: string
  /** Multiaddrs where peers can dial this node (empty for a local agent). */
  readonly addresses: readonly string[]
  /** Resolves once the agent has caught up with the peers it found at start. */
  readonly ready: Promise<void>
  /**
   * Healthy instances of one service (see `ServiceQuery.includeCritical`). The array is the
   * view's cached, frozen one (this is what makes the call O(1)): copy it to sort or change.
   */
  getService(name: string): readonly ServiceInstance[]
  /** Instances of one service that match every filter. */
  service(name: string, query?: ServiceQuery): ServiceInstance[]
  /** Every service with its healthy instances, optionally only instances with all `tags`. */
  services(query?: {
    tags?: readonly string[]
    includeCritical?: boolean
  }): Map<string, ServiceInstance[]>
  /** The instances this node itself registered, healthy or not. */
  localInstances(): ServiceInstance[]
  /**
   * Every change to one service (or to all, without a name) from now on, until the loop
   * breaks or the agent stops.
   */
  events(name?: string): AsyncIterableIterator<ServiceEvent>
  members(): Member[]
  conflicts(): Conflict[]
  stats(): AgentStats
  /** Deregisters this node's instances, tells the cluster, then stops. */
  leave(): Promise<void>
  /** Stops without deregistering; peers expire this node's instances when it goes silent. */
  stop(): Promise<void>
}

/**
 * The queries, watches and event streams of `Agent`: what an agent answers straight from its
 * `RegistryNode` (see `agentReads`).
 */
export type AgentReads = Pick<
  Agent,
  'getService' | 'service' | 'services' | 'localInstances' | 'conflicts' | 'watch' | 'events'
>

/** Counters for metrics and `grapevine members`. Network fields are zero for a local agent. */
export interface AgentStats {
  /** Stored claims, tombstones included. */
  readonly claims: number
  /** Resolved, visible instances. */
  readonly instances: number
  readonly conflicts: number
  /**
   * Conflicts detected since start (a counter): an id another node claimed while a live owner
   * held it (a takeover attempt, which the owner wins), or registered concurrently.
   */
  readonly conflictsSeen: number
  readonly peers: Readonly<Record<MemberState, number>>
  /** Pubsub messages received (accepted by the validator) plus sync frames read. */
  readonly messagesIn: number
  /** Pubsub messages published plus sync frames written. */
  readonly messagesOut: number
  readonly bytesIn: number
  readonly bytesOut: number
  /** Sync sessions completed, as initiator or responder. */
  readonly syncSessions: number
  /** Messages and frames dropped, by reason (`decode`, `schema`, `signer`, `oversize`, `stale`…). */
  readonly dropped: Readonly<Record<string, number>>
}
