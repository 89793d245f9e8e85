import type { Conflict, EventCause, MemberState, ServiceEvent } from './agent-api.js'
import type { Claim } from './claim.js'
import { instancesEqual, type ServiceInstance } from './instance.js'
import { isVisibleState, resolve } from './resolve.js'

/**
 * The resolved view: for every instance id, the winning live claim's instance, indexed by
 * service name and by tag. It only ever references the claims' frozen instances (never
 * copies), so its memory is the indexes alone.
 *
 * Queries are served from a frozen array cached per name, built on first read after a
 * change: `healthy(name)` is a map lookup when nothing changed.
 */
export interface View {
  /**
   * Re-resolves `ids` from their claims and returns the events that turn the previous view
   * into the new one, in order. `originState` tells which origins are visible (not dead or
   * left) and why an instance went away.
   */
  refresh(
    ids: Iterable<string>,
    claimsFor: (id: string) => readonly Claim[],
    originState: (origin: string) => MemberState | undefined,
  ): ServiceEvent[]
  /** The resolved instance for an id. */
  get(id: string): ServiceInstance | undefined
  /** Every instance of a service, any status, sorted by id. Frozen and shared: do not mutate. */
  all(name: string): readonly ServiceInstance[]
  /** Instances of a service that are not `critical`, sorted by id. Frozen and shared. */
  healthy(name: string): readonly ServiceInstance[]
  /** Names with at least one instance. */
  names(): IterableIterator<string>
  /** Ids of instances carrying a tag; undefined when none. Live set: do not mutate. */
  idsWithTag(tag: string): ReadonlySet<string> | undefined
  conflicts(): Conflict[]
  /**
   * Calls `listener` whenever an id enters a conflict or its set of claimants changes (a
   * second node registers it, or a takeover of a live owner's instance is attempted).
   */
  onConflict(listener: (conflict: Conflict) => void): () => void
  readonly size: number
  readonly conflictCount: number
  /** Conflicts that started (or gained a claimant) since the view was created. */
  readonly conflictsSeen: number
}

interface ServiceEntry {
  readonly members: Map<string, ServiceInstance>
  /** Caches, dropped on every change to `members`. */
  all: readonly ServiceInstance[] | undefined
  healthy: readonly ServiceInstance[] | undefined
}

const EMPTY: readonly ServiceInstance[] = Object.freeze([])

function byId(a: ServiceInstance, b: ServiceInstance): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** True when `a` and `b` differ in their health only: `status` or check states. */
function onlyHealthDiffers(a: ServiceInstance, b: ServiceInstance): boolean {
  const { checks: _checks, ...rest } = a
  const sameHealth = {
    ...rest,
    status: b.status,
    ...(b.checks !== undefined && { checks: b.checks }),
  }
  return instancesEqual(sameHealth, b)
}

/** Why `before` became `after` (same id, both present, not equal). */
export function changeCause(before: ServiceInstance, after: ServiceInstance): EventCause {
  if (before.node !== after.node) return 'superseded'
  if (onlyHealthDiffers(before, after)) return 'health'
  return 'registered'
}

/**
 * Why `gone` left the view when the id has no winner any more, from its owner's side:
 * the owner left, or wrote a tombstone, or is dead, or its claim vanished (the owner
 * restarted without it, or was purged). `left` goes first because a leaving node writes
 * tombstones just before LEAVE; when LEAVE arrives first the cause is still `left`.
 */
function removalCause(
  gone: ServiceInstance,
  claims: readonly Claim[],
  state: MemberState | undefined,
): EventCause {
  if (state === 'left') return 'left'
  const own = claims.find((claim) => claim.origin === gone.node)
  if (own !== undefined && own.instance === null) return 'deregistered'
  return 'expired'
}

export function createView(): View {
  const instances = new Map<string, ServiceInstance>()
  const services = new Map<string, ServiceEntry>()
  const tags = new Map<string, Set<string>>()
  const conflicts = new Map<string, Conflict>()
  const conflictListeners = new Set<(conflict: Conflict) => void>()
  let conflictsSeen = 0

  function noteConflict(id: string, winner: ServiceInstance, claimants: readonly string[]): void {
    const previous = conflicts.get(id)
    const conflict = Object.freeze({ id, winner, claimants })
    conflicts.set(id, conflict)
    const grew =
      previous === undefined || claimants.some((origin) => !previous.claimants.includes(origin))
    if (!grew) return
    conflictsSeen++
    for (const listener of conflictListeners) listener(conflict)
  }

  function insert(instance: ServiceInstance): void {
    instances.set(instance.id, instance)
    let entry = services.get(instance.name)
    if (entry === undefined) {
      entry = { members: new Map(), all: undefined, healthy: undefined }
      services.set(instance.name, entry)
    }
    entry.members.set(instance.id, instance)
    entry.all = undefined
    entry.healthy = undefined
    // Indexed: an instance's tags are frozen, and iterating a frozen array with for…of
    // allocates a result per step (a joiner inserts 100k instances; see estimateClaimBytes).
    const instanceTags = instance.tags
    for (let i = 0; i < instanceTags.length; i++) {
      const tag = instanceTags[i]!
      let ids = tags.get(tag)
      if (ids === undefined) {
        ids = new Set()
        tags.set(tag, ids)
      }
      ids.add(instance.id)
    }
  }

  function remove(instance: ServiceInstance): void {
    instances.delete(instance.id)
    const entry = services.get(instance.name)
    if (entry !== undefined) {
      entry.members.delete(instance.id)
      if (entry.members.size === 0) services.delete(instance.name)
      entry.all = undefined
      entry.healthy = undefined
    }
    const instanceTags = instance.tags
    for (let i = 0; i < instanceTags.length; i++) {
      const ids = tags.get(instanceTags[i]!)
      if (ids === undefined) continue
      ids.delete(instance.id)
      if (ids.size === 0) tags.delete(instanceTags[i]!)
    }
  }

  function all(name: string): readonly ServiceInstance[] {
    const entry = services.get(name)
    if (entry === undefined) return EMPTY
    if (entry.all === undefined) {
      entry.all = Object.freeze([...entry.members.values()].sort(byId))
    }
    return entry.all
  }

  function healthy(name: string): readonly ServiceInstance[] {
    const entry = services.get(name)
    if (entry === undefined) return EMPTY
    if (entry.healthy === undefined) {
      const list = all(name)
      entry.healthy = list.every((i) => i.status !== 'critical')
        ? list
        : Object.freeze(list.filter((i) => i.status !== 'critical'))
    }
    return entry.healthy
  }

  function refreshOne(
    id: string,
    claimsFor: (id: string) => readonly Claim[],
    originState: (origin: string) => MemberState | undefined,
    events: ServiceEvent[],
  ): void {
    const claims = claimsFor(id)
    const { winner, claimants } = resolve(claims, (origin) => isVisibleState(originState(origin)))
    const before = instances.get(id)
    const after = winner?.instance ?? undefined
    if (after !== undefined && claimants.length > 1) {
      noteConflict(id, after, claimants)
    } else {
      conflicts.delete(id)
    }
    if (before === after) return
    if (before === undefined) {
      insert(after!)
      events.push({ op: 'add', instance: after!, cause: 'registered' })
      return
    }
    if (after === undefined) {
      remove(before)
      const cause = removalCause(before, claims, originState(before.node))
      events.push({ op: 'delete', instance: before, cause })
      return
    }
    // Swap the reference even when equal, so the replaced claim's objects can be collected.
    remove(before)
    insert(after)
    if (instancesEqual(before, after)) return
    const cause = changeCause(before, after)
    if (before.name === after.name) {
      events.push({ op: 'update', instance: after, cause })
    } else {
      const moved = before.node !== after.node ? 'superseded' : 'registered'
      events.push({ op: 'delete', instance: before, cause: moved })
      events.push({ op: 'add', instance: after, cause: moved })
    }
  }

  return {
    refresh(ids, claimsFor, originState) {
      const events: ServiceEvent[] = []
      for (const id of ids) refreshOne(id, claimsFor, originState, events)
      return events
    },
    get: (id) => instances.get(id),
    all,
    healthy,
    names: () => services.keys(),
    idsWithTag: (tag) => tags.get(tag),
    conflicts: () => [...conflicts.values()],
    onConflict(listener) {
      conflictListeners.add(listener)
      return () => conflictListeners.delete(listener)
    },
    get conflictsSeen() {
      return conflictsSeen
    },
    get size() {
      return instances.size
    },
    get conflictCount() {
      return conflicts.size
    },
  }
}
