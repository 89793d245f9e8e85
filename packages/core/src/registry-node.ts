import type { AgentReads, MemberState } from './agent-api.js'
import type { Claim } from './claim.js'
import { createClaimWriter } from './claim-writer.js'
import { NotFoundError, QuotaExceededError, ValidationError } from './errors.js'
import {
  HEALTH_STATUSES,
  type HealthStatus,
  type InstanceCheck,
  instancesEqual,
  type ServiceInstance,
  validateInstanceChecks,
  validateName,
  validateRegistration,
} from './instance.js'
import { createLiveness } from './liveness.js'
import type { LivenessTransition } from './liveness-types.js'
import { queryService, queryServices } from './query.js'
import type { RegistryNode, RegistryNodeInit } from './registry-node-types.js'
import { createReplica, DEFAULT_ORIGIN_QUOTA } from './replica.js'
import type { ApplyResult, Delta, OriginQuota, PartOptions, SyncPart } from './replica-types.js'
import { isVisibleState } from './resolve.js'
import { type Seal, signSeal } from './signing.js'
import { compareVectors } from './version-vector.js'
import { createView } from './view.js'
import { createWatchHub } from './watch.js'

const DEFAULT_TOMBSTONE_TTL = 60_000

function nothingApplied(dropped: number, overQuota = 0): ApplyResult {
  return { changedIds: new Set(), applied: 0, dropped, gap: false, restarted: false, overQuota }
}

const DEFAULT_MAX_ORIGINS = 4_096

function byId(a: ServiceInstance, b: ServiceInstance): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/**
 * The engine of every agent. It owns the replica, this node's claim writer, the liveness
 * of other origins, the resolved view and the watch hub, and keeps them in step: every
 * change to claims or to an origin's visibility re-resolves exactly the ids it touched and
 * publishes the resulting events.
 *
 * Rules it enforces:
 * - This node's own claims are always visible (it never judges itself dead).
 * - Only this node writes claims of its origin. Anything received for our origin is an echo
 *   of our own writes or, after a restart, a previous generation's: both are dropped, so
 *   peers learn our current state from our current generation only.
 * - Bad input throws `ValidationError` before anything is written.
 */
export function createRegistryNode(init: RegistryNodeInit): RegistryNode {
  const { nodeId, gen, now, timings } = init
  const generateId = init.generateId ?? (() => crypto.randomUUID())
  const signing = init.signing
  const maxOrigins = init.maxOrigins ?? DEFAULT_MAX_ORIGINS
  const quota: OriginQuota = { ...DEFAULT_ORIGIN_QUOTA, ...init.quota }
  let sealCache: Seal | undefined
  function ownSeal(): Seal | undefined {
    if (signing === undefined) return undefined
    const state = replica.origin(nodeId)
    const covered = state?.covered ?? 0
    const floor = state?.floor ?? 0
    const cached = sealCache
    if (cached !== undefined && cached.covered === covered && cached.floor === floor) return cached
    sealCache = signSeal(signing, { origin: nodeId, gen, covered, floor })
    return sealCache
  }
  const replica = createReplica({
    now,
    tombstoneTtl: init.tombstoneTtl ?? DEFAULT_TOMBSTONE_TTL,
    quota,
    ownSeal: (origin) => (origin === nodeId ? ownSeal() : undefined),
  })
  const writer = createClaimWriter({
    origin: nodeId,
    gen,
    replica,
    ...(signing !== undefined && { signing }),
  })
  const liveness = createLiveness({ now, timings })
  const view = createView()
  const hub = createWatchHub()

  const claimsFor = (id: string): readonly Claim[] => replica.claimsFor(id)
  // Origins back from dead in the same generation, whose claims stay hidden until the replica
  // covers what the origin itself says it holds: origin → that `covered`, or `UNSAID` until it
  // said (see `memberFact` and `originAdvert`).
  const catchingUp = new Map<string, number>()
  const UNSAID = Number.POSITIVE_INFINITY
  const originState = (origin: string): MemberState | undefined => {
    if (origin === nodeId) return 'alive'
    const state = liveness.state(origin)
    return catchingUp.has(origin) && isVisibleState(state) ? 'dead' : state
  }

  /** Shows a held origin's claims once the replica covers what it advertised. */
  function releaseIfCaughtUp(origin: string): void {
    const needed = catchingUp.get(origin)
    if (needed === undefined) return
    if ((replica.origin(origin)?.covered ?? 0) < needed) return
    release(origin)
  }

  /** Ends a hold (and shows what it hid, if the origin is visible). */
  function release(origin: string): void {
    if (!catchingUp.delete(origin)) return
    refresh(replica.claimsOf(origin).map((claim) => claim.id))
  }

  function refresh(ids: Iterable<string>): void {
    hub.publish(view.refresh(ids, claimsFor, originState))
  }

  function ownLiveClaims(): Claim[] {
    return replica.claimsOf(nodeId).filter((claim) => claim.instance !== null)
  }

  function ownLiveInstance(id: string): ServiceInstance {
    const own = replica.claimsFor(id).find((claim) => claim.origin === nodeId)
    if (own?.instance == null) throw new NotFoundError(id)
    return own.instance
  }

  function write(entries: { id: string; instance: ServiceInstance | null }[]): Delta {
    const delta = writer.write(entries)
    refresh(entries.map((entry) => entry.id))
    return delta
  }

  /** Re-resolves an origin's ids when a transition hides or shows its claims. */
  function onTransition(transition: LivenessTransition | undefined): void {
    if (transition === undefined) return
    if (isVisibleState(transition.from) === isVisibleState(transition.to)) return
    refresh(replica.claimsOf(transition.origin).map((claim) => claim.id))
  }

  // Generations of origins we purged. A peer that has not purged them yet would sync their
  // claims back, and with no liveness record they would show again for good; they are
  // dropped until the origin itself speaks again.
  // Bounded: entries go after another purgeAfter (the peers that still held the origin have
  // purged it too by then), and the map never holds more than maxOrigins.
  const purged = new Map<string, { gen: number; at: number }>()

  /**
   * Whether remote input may be applied: not of our own origin (only we write it; what comes
   * back is an echo, or a previous generation's claims after a restart), not of a purged
   * generation. An origin we only know from relayed claims starts its lease now
   * (`liveness.seen`). The replica itself rejects input whose claims are not all its
   * envelope's origin.
   */
  function admits(input: { origin: string; gen: number }): boolean {
    if (input.origin === nodeId) return false
    const purgedGen = purged.get(input.origin)?.gen
    if (purgedGen !== undefined && input.gen <= purgedGen) return false
    // Relayed claims of a generation older than one the origin itself announced are history.
    const newest = liveness.gen(input.origin)
    if (newest !== undefined && input.gen < newest) return false
    liveness.seen(input.origin, input.gen)
    return true
  }

  /**
   * Whatever the evidence that an origin runs generation `gen` (a heartbeat, a LEAVE, a
   * membership probe), claims of its older generations never become visible again: they are
   * dropped at once, and `admits` refuses them if a peer syncs them back.
   */
  function retire(origin: string, gen: number): void {
    const known = liveness.gen(origin)
    if (known !== undefined && gen < known) return
    refresh(replica.retire(origin, gen))
    // A hold is about an older generation's claims, which are gone now.
    if (known !== undefined && gen > known) release(origin)
  }

  /** A new origin past `maxOrigins` is refused (counted as over quota by the caller). */
  function roomFor(origin: string): boolean {
    return (
      replica.origin(origin) !== undefined ||
      liveness.state(origin) !== undefined ||
      replica.originCount < maxOrigins
    )
  }

  /** No record of the origin at all: it never spoke to us, and nobody may introduce it. */
  function unknown(origin: string): boolean {
    return replica.origin(origin) === undefined && liveness.state(origin) === undefined
  }

  function applyRemote<T extends Delta | SyncPart>(
    input: T,
    merge: (input: T) => ApplyResult,
    relayed = false,
  ): ApplyResult {
    if (input.origin !== nodeId && !roomFor(input.origin)) {
      return nothingApplied(input.claims.length, input.claims.length)
    }
    if (relayed && unknown(input.origin)) {
      return { ...nothingApplied(input.claims.length), unadmitted: true }
    }
    if (!admits(input)) return nothingApplied(input.claims.length)
    const result = merge(input)
    refresh(result.changedIds)
    // A newer generation replaced the claims a hold was about.
    if (result.restarted) release(input.origin)
    else releaseIfCaughtUp(input.origin)
    return result
  }

  return {
    nodeId,
    gen,
    replica,
    liveness,

    register(registration, checks) {
      const validated = validateRegistration(registration, nodeId, generateId)
      const summaries = validateInstanceChecks(checks)
      const instance: ServiceInstance =
        summaries === undefined ? validated : Object.freeze({ ...validated, checks: summaries })
      const known = replica.claimsFor(instance.id).some((claim) => claim.origin === nodeId)
      if (!known && replica.claimCount(nodeId) >= quota.claims) {
        throw new QuotaExceededError(quota.claims, 'claims')
      }
      return { id: instance.id, delta: write([{ id: instance.id, instance }]) }
    },

    deregister(id) {
      ownLiveInstance(id)
      return write([{ id, instance: null }])
    },

    setStatus(id, status: HealthStatus) {
      if (!HEALTH_STATUSES.includes(status)) {
        throw new ValidationError('status', `must be one of ${HEALTH_STATUSES.join(', ')}`)
      }
      const current = ownLiveInstance(id)
      if (current.status === status) return undefined
      // metadata, endpoints and tags are frozen already: share them with the new version.
      const instance: ServiceInstance = Object.freeze({ ...current, status })
      return write([{ id, instance }])
    },

    setHealth(id, status: HealthStatus, checks: readonly InstanceCheck[]) {
      if (!HEALTH_STATUSES.includes(status)) {
        throw new ValidationError('status', `must be one of ${HEALTH_STATUSES.join(', ')}`)
      }
      const summaries = validateInstanceChecks(checks)
      const current = ownLiveInstance(id)
      const { checks: _previous, ...fields } = current
      const instance: ServiceInstance = Object.freeze({
        ...fields,
        status,
        ...(summaries !== undefined && { checks: summaries }),
      })
      if (instancesEqual(current, instance)) return undefined
      return write([{ id, instance }])
    },

    deregisterAll() {
      const own = ownLiveClaims()
      if (own.length === 0) return undefined
      return write(own.map((claim) => ({ id: claim.id, instance: null })))
    },

    restamp() {
      // Only claims that some other node's claim does not precede need a fresh vector; a
      // restart with many registrations and no competition rewrites nothing.
      const stale = ownLiveClaims().filter((own) =>
        replica
          .claimsFor(own.id)
          .some(
            (other) => other.origin !== nodeId && compareVectors(other.vv, own.vv) !== 'before',
          ),
      )
      if (stale.length === 0) return undefined
      return write(stale.map((claim) => ({ id: claim.id, instance: claim.instance })))
    },

    applyDelta: (delta: Delta) => applyRemote(delta, (admitted) => replica.applyDelta(admitted)),
    applyPart: (part: SyncPart, options?: PartOptions) =>
      applyRemote(part, (admitted) => replica.applyPart(admitted, options), options?.relayed),
    ownSeal,
    cluster: signing?.cluster,
    knows: (origin) => origin === nodeId || !unknown(origin),

    memberFact(origin, state, originGen, covered) {
      if (origin === nodeId) return
      if (state === 'alive') {
        const purgedGen = purged.get(origin)?.gen
        if (purgedGen !== undefined && originGen >= purgedGen) purged.delete(origin)
        // Before the fact makes the origin visible again: the claims we hold may be an older
        // generation's, and showing them, even until the new one's state arrives, is a flap.
        retire(origin, originGen)
        const heldGen = liveness.gen(origin)
        const transition = liveness.fact(origin, state, originGen)
        // Back from dead in the same generation, the origin may have written what we never
        // received (it was paused, starved or cut off before its DELTA left, or the DELTA was
        // lost): what we hold is stale until we cover what it says it holds, and showing it
        // would undo its deregistrations for a moment. A new generation needs no wait: `retire`
        // dropped the old one's claims, and the new one's arrive as it writes them.
        if (
          transition !== undefined &&
          transition.from !== undefined &&
          !isVisibleState(transition.from) &&
          heldGen === originGen
        ) {
          if (covered === undefined) catchingUp.set(origin, UNSAID)
          else if ((replica.origin(origin)?.covered ?? 0) < covered) catchingUp.set(origin, covered)
        }
        onTransition(transition)
        return
      }
      // Hidden first (watchers see cause `left` or `expired`), then older generations dropped.
      if (state === 'left') catchingUp.delete(origin)
      onTransition(liveness.fact(origin, state, originGen))
      retire(origin, originGen)
    },

    awaitsOrigin: (origin) => catchingUp.get(origin) === UNSAID,
    holds: (origin) => catchingUp.has(origin),

    originAdvert(origin, originGen, covered) {
      const needed = catchingUp.get(origin)
      if (needed === undefined || originGen !== liveness.gen(origin)) return
      catchingUp.set(origin, needed === UNSAID ? covered : Math.max(needed, covered))
      releaseIfCaughtUp(origin)
    },

    tick() {
      const { transitions, purge } = liveness.tick()
      for (const transition of transitions) onTransition(transition)
      for (const origin of purge) {
        if (origin === nodeId) continue
        catchingUp.delete(origin)
        const ids = replica.forgetOrigin(origin)
        purged.set(origin, { gen: liveness.gen(origin) ?? 0, at: now() })
        liveness.forget(origin)
        refresh(ids)
      }
      const time = now()
      for (const [origin, entry] of purged) {
        // Insertion order is purge order: the rest are younger.
        if (time - entry.at < timings.purgeAfter && purged.size <= maxOrigins) break
        purged.delete(origin)
      }
      replica.collectGarbage()
      return transitions
    },

    getService: (name) => view.healthy(name),
    service: (name, query) => queryService(view, name, query) as ServiceInstance[],
    services: (query) => queryServices(view, query) as Map<string, ServiceInstance[]>,
    localInstances: () =>
      ownLiveClaims()
        .map((claim) => claim.instance!)
        .sort(byId),
    conflicts: () => view.conflicts(),

    watch(name, query) {
      validateName(name)
      return hub.watch(name, () => queryService(view, name, query))
    },
    events(name) {
      if (name !== undefined) validateName(name)
      return hub.events(name)
    },
    onEvent: (listener) => hub.onEvent(listener),
    onConflict: (listener) => view.onConflict(listener),
    get conflictsSeen() {
      return view.conflictsSeen
    },

    get instanceCount() {
      return view.size
    },
    close: () => hub.close(),
  }
}

/**
 * An agent's `AgentReads`, answered by its registry node. Each calls `guard` first, which
 * throws once the agent has stopped.
 */
export function agentReads(node: RegistryNode, guard: () => void): AgentReads {
  return {
    getService(name) {
      guard()
      return node.getService(name)
    },
    service(name, query) {
      guard()
      return node.service(name, query)
    },
    services(query) {
      guard()
      return node.services(query)
    },
    localInstances() {
      guard()
      return node.localInstances()
    },
    conflicts() {
      guard()
      return node.conflicts()
    },
    watch(name, query) {
      guard()
      return node.watch(name, query)
    },
    events(name) {
      guard()
      return node.events(name)
    },
  }
}
