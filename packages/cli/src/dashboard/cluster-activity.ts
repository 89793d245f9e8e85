import type { Conflict, Member, MemberState, ServiceEvent } from '@grapevine/core'
import type { ApiAgent } from '../http/agent-extensions.js'
import type { ChangeFeed } from '../http/change-feed.js'

/** A membership change, as the dashboard's timeline shows it. */
export interface MemberChange {
  /** Wall-clock milliseconds. */
  readonly at: number
  readonly id: string
  readonly name?: string
  /** `joined` the first time a member is seen, then the state it moved to. */
  readonly change: 'joined' | MemberState
  readonly gen: number
}

/** A registry change, as the dashboard's event log shows it. */
export interface LoggedEvent extends ServiceEvent {
  readonly seq: number
  /** Wall-clock milliseconds. */
  readonly at: number
}

/** What a dashboard stream sends. */
export type ActivityMessage =
  | { readonly type: 'event'; readonly event: LoggedEvent }
  | { readonly type: 'members'; readonly members: Member[]; readonly changes: MemberChange[] }
  | { readonly type: 'conflicts'; readonly conflicts: Conflict[] }

export interface ActivitySnapshot {
  readonly members: Member[]
  readonly conflicts: Conflict[]
  /** Oldest first, at most `logSize`. */
  readonly log: LoggedEvent[]
  /** Oldest first, at most `timelineSize`. */
  readonly timeline: MemberChange[]
  /** Change events per second over the last `rateSeconds` seconds, oldest first. */
  readonly rate: { readonly second: number; readonly count: number }[]
}

export interface ClusterActivityInit {
  agent: Pick<ApiAgent, 'members' | 'conflicts'>
  feed: ChangeFeed
  /** Wall clock in ms. @default Date.now */
  now?: () => number
  /** How often members and conflicts are compared with the last look while a page watches. @default 250 */
  pollMs?: number
  /** The same with no page watching: only the timeline needs it then. @default 5000 */
  idlePollMs?: number
  /** @default 200 */
  logSize?: number
  /** @default 200 */
  timelineSize?: number
  /** @default 60 */
  rateSeconds?: number
}

export interface ClusterActivity {
  snapshot(): ActivitySnapshot
  /** Calls `listener` for every message from now on; returns the unsubscribe function. */
  subscribe(listener: (message: ActivityMessage) => void): () => void
  close(): void
}

/**
 * What the dashboard shows beyond single queries: the registry's recent events with their
 * causes, a per-second count of them, and a timeline of membership changes. Members have no
 * event stream of their own, so their list is compared with the previous look every `pollMs`
 * (a few hundred µs for tens of members) and only differences are sent on. With no page
 * open it looks every `idlePollMs` instead: an idle agent's budget is about 1% of a core.
 */
export function createClusterActivity(init: ClusterActivityInit): ClusterActivity {
  const now = init.now ?? Date.now
  const logSize = init.logSize ?? 200
  const timelineSize = init.timelineSize ?? 200
  const rateSeconds = init.rateSeconds ?? 60
  const listeners = new Set<(message: ActivityMessage) => void>()
  const log: LoggedEvent[] = []
  const timeline: MemberChange[] = []
  const perSecond = new Map<number, number>()
  const lastState = new Map<string, MemberState>()
  let members = init.agent.members()
  let conflicts = init.agent.conflicts()
  let conflictsKey = JSON.stringify(conflicts)
  let seq = 0
  let membersSentAt = 0

  const emit = (message: ActivityMessage) => {
    for (const listener of listeners) listener(message)
  }
  const keep = <T>(list: T[], item: T, max: number) => {
    list.push(item)
    if (list.length > max) list.splice(0, list.length - max)
  }

  const diffMembers = (next: Member[]): MemberChange[] => {
    const at = now()
    const changes: MemberChange[] = []
    for (const member of next) {
      const before = lastState.get(member.id)
      if (before === member.state) continue
      // A member first seen alive or suspect (a joiner hears of some peers through others
      // before they speak) has joined; its first suspicion is no news to a person.
      const joined =
        before === undefined && (member.state === 'alive' || member.state === 'suspect')
      lastState.set(member.id, joined ? 'alive' : member.state)
      const change: MemberChange['change'] = joined ? 'joined' : member.state
      changes.push({
        at,
        id: member.id,
        ...(member.name !== undefined && { name: member.name }),
        change,
        gen: member.gen,
      })
    }
    return changes
  }
  for (const change of diffMembers(members)) keep(timeline, change, timelineSize)

  const unsubscribe = init.feed.subscribe(undefined, (event) => {
    const at = now()
    const logged: LoggedEvent = { ...event, seq: ++seq, at }
    keep(log, logged, logSize)
    const second = Math.floor(at / 1000)
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1)
    for (const old of perSecond.keys()) if (old <= second - rateSeconds) perSecond.delete(old)
    emit({ type: 'event', event: logged })
  })

  const look = () => {
    let next: Member[]
    try {
      next = init.agent.members()
      const nextConflicts = init.agent.conflicts()
      const key = JSON.stringify(nextConflicts)
      if (key !== conflictsKey) {
        conflictsKey = key
        conflicts = nextConflicts
        emit({ type: 'conflicts', conflicts })
      }
    } catch {
      // The agent stopped; the feed's end closes the streams.
      return
    }
    const changes = diffMembers(next)
    // Last-heard ages move every poll: the list goes out at once when something a person
    // would notice changed, and once a second otherwise (the page ages it in between).
    const shape = (list: Member[]) =>
      JSON.stringify(list.map((m) => [m.id, m.name, m.state, m.gen, m.addresses]))
    const changed = changes.length > 0 || shape(next) !== shape(members)
    members = next
    for (const change of changes) keep(timeline, change, timelineSize)
    if (changed || now() - membersSentAt >= 1000) {
      membersSentAt = now()
      emit({ type: 'members', members, changes })
    }
  }
  const pollMs = init.pollMs ?? 250
  const idlePollMs = init.idlePollMs ?? 5_000
  let poll: ReturnType<typeof setTimeout> | undefined
  let closed = false
  const arm = () => {
    clearTimeout(poll)
    if (closed) return
    poll = setTimeout(
      () => {
        look()
        arm()
      },
      listeners.size > 0 ? pollMs : idlePollMs,
    )
    poll.unref()
  }
  arm()

  return {
    snapshot() {
      const current = Math.floor(now() / 1000)
      const rate = []
      for (let second = current - rateSeconds + 1; second <= current; second++) {
        rate.push({ second, count: perSecond.get(second) ?? 0 })
      }
      return { members, conflicts, log: [...log], timeline: [...timeline], rate }
    },
    subscribe(listener) {
      listeners.add(listener)
      if (listeners.size === 1) arm()
      return () => listeners.delete(listener)
    },
    close() {
      closed = true
      clearTimeout(poll)
      unsubscribe()
      listeners.clear()
    },
  }
}
