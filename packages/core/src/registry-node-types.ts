import type { AgentReads, Conflict, MemberState, ServiceEvent } from './agent-api.js'
import type { HealthStatus, InstanceCheck, Registration } from './instance.js'
import type { Liveness, LivenessTimings, LivenessTransition } from './liveness-types.js'
import type {
  ApplyResult,
  Delta,
  OriginQuota,
  PartOptions,
  Replica,
  SyncPart,
} from './replica-types.js'
import type { ClaimSigning, Seal } from './signing.js'

export interface RegistryNodeInit {
  /** This node's id (its peer id when networked). */
  nodeId: string
  /** This node's generation: higher on every start. */
  gen: number
  /** Monotonic milliseconds. */
  now: () => number
  /** Generates ids for registrations without one. @default crypto.randomUUID */
  generateId?: () => string
  /** The registry's own timings (membership facts decide the rest). */
  timings: LivenessTimings
  /** @default 60_000 */
  tombstoneTtl?: number
  /**
   * Signs this node's claims and seals (a networked node: the libp2p key). Without it claims
   * are unsigned, which only a node that never relays to others (the local agent) may do.
   */
  signing?: ClaimSigning
  /** Per-origin storage limits, for every origin including this one. @default DEFAULT_ORIGIN_QUOTA */
  quota?: Partial<OriginQuota>
  /**
   * Most origins held (members and the origins of relayed claims). New origins past it are
   * refused and counted: a peer cannot fill every node's memory with generated identities.
   * @default 4_096
   */
  maxOrigins?: number
}

/**
 * The engine behind every agent, local or networked: this node's writes, the replica, the
 * view, liveness of other origins, and watches. Pure: whoever drives it supplies the network
 * (pass `Delta`s and parts in, publish the `Delta`s that local writes return) and calls
 * `tick()` on a timer. It answers an agent's `AgentReads` (queries, watches, event streams),
 * whose streams end on `close()`.
 */
export interface RegistryNode extends AgentReads {
  readonly nodeId: string
  readonly gen: number
  readonly replica: Replica
  readonly liveness: Liveness

  /**
   * Validates and claims an instance; returns its id and the write to publish. `checks` are
   * the summaries of its health checks that replicate with it (the agent's, see `setHealth`).
   */
  register(
    registration: Registration,
    checks?: readonly InstanceCheck[],
  ): { id: string; delta: Delta }
  /** Tombstones one of this node's instances; throws `NotFoundError` if it has none by that id. */
  deregister(id: string): Delta
  /** Changes the health status of one of this node's instances; undefined when unchanged. */
  setStatus(id: string, status: HealthStatus): Delta | undefined
  /**
   * Sets the status and the check summaries of one of this node's instances (an empty list
   * drops them); undefined when both are unchanged. Throws `ValidationError` for summaries
   * past `LIMITS` (the caller cuts outputs with `truncateText`).
   */
  setHealth(id: string, status: HealthStatus, checks: readonly InstanceCheck[]): Delta | undefined
  /** Tombstones every instance of this node (for `leave()`); undefined when it has none. */
  deregisterAll(): Delta | undefined
  /**
   * Re-issues, with a fresh version vector, every live claim of this node that another node's
   * claim on the same id does not precede. Called once the node has caught up after start, so
   * that its claims supersede what it could not see before; undefined when none needs it.
   */
  restamp(): Delta | undefined

  /** Applies a remote DELTA and updates the view. */
  applyDelta(delta: Delta): ApplyResult
  /** Applies a remote sync part and updates the view (see `PartOptions.relayed`). */
  applyPart(part: SyncPart, options?: PartOptions): ApplyResult
  /**
   * True if `origin` spoke to this node (or is this node): only then are parts relayed for it
   * applied, so only then is being behind on it something a sync can fix.
   */
  knows(origin: string): boolean
  /** This node's seal for its current state, signed (cached); undefined without `signing`. */
  ownSeal(): Seal | undefined
  /** The cluster name claims are signed for; undefined without `signing`. */
  readonly cluster: string | undefined

  /**
   * A membership fact: `origin` is alive, suspect, dead or left at generation `gen`. Dead and
   * left origins' claims are hidden (watchers see cause `expired` or `left`), and purged
   * `purgeAfter` later. The only way membership reaches the registry.
   *
   * An origin back from dead in the same generation stays hidden until this replica holds
   * what the origin itself says it has written, so that what it wrote while unheard (a
   * deregistration) is never shown undone, even for a moment. `covered` is that statement
   * when the fact carries it (the origin's signed ALIVE states it); without it, the origin
   * stays hidden (`awaitsOrigin`) until `originAdvert` brings its word.
   */
  memberFact(origin: string, state: MemberState, gen: number, covered?: number): void
  /**
   * True while `origin` is back from dead but has not yet said what it holds: the caller
   * should ask it (a sync session with the origin itself) and pass its answer to
   * `originAdvert`.
   */
  awaitsOrigin(origin: string): boolean
  /** True while `origin` is back from dead and hidden, for its word or for its claims. */
  holds(origin: string): boolean
  /**
   * The origin's own word on how far it has written in `gen` (its digest entry in a sync
   * reply), given in answer to a request made while `awaitsOrigin(origin)` was true, so that
   * the word is newer than the fact that brought it back. Its claims show once this replica
   * covers `covered`. A word of another generation is ignored.
   */
  originAdvert(origin: string, gen: number, covered: number): void
  /** Hides unconfirmed origins, purges, collects tombstones. */
  tick(): LivenessTransition[]

  /**
   * Synchronous listener for conflicts: an id that another node claims while a live owner
   * holds it, or that two nodes registered concurrently. Returns an unsubscribe function.
   */
  onConflict(listener: (conflict: Conflict) => void): () => void
  /** Conflicts that started or gained a claimant since this node started (a counter). */
  readonly conflictsSeen: number
  /** Synchronous listener for every view event; returns an unsubscribe function. */
  onEvent(listener: (event: ServiceEvent) => void): () => void
  /** Number of resolved (visible) instances. */
  readonly instanceCount: number
  /** Stops every watcher and event stream (they reject / end). */
  close(): void
}
