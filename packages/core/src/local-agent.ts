import type { Agent, AgentStats, Member } from './agent-api.js'
import { AgentStoppedError } from './errors.js'
import { PROFILES } from './profiles.js'
import { agentReads, createRegistryNode } from './registry-node.js'

export interface LocalAgentInit {
  /** This node's id. @default `local-` + a random UUID */
  nodeId?: string
  /** Monotonic milliseconds (tombstone expiry). @default performance.now */
  now?: () => number
  /** Generates ids for registrations without one. @default crypto.randomUUID */
  generateId?: () => string
}

/**
 * Tombstones are collected on the next call at least this long after the previous
 * collection: the local agent has no timer (core never starts one), so it piggybacks GC on
 * calls, and spacing it out keeps bulk registration O(1) per call.
 */
const COLLECT_EVERY_MS = 1_000

/**
 * The `Agent` interface without a network: one node alone with its own replica. For tests,
 * examples and single-process apps; code written against it runs unchanged on a networked
 * agent. Members are just this node; network counters stay zero.
 */
export function createLocalAgent(init: LocalAgentInit = {}): Agent {
  const nodeId = init.nodeId ?? `local${crypto.randomUUID().replaceAll('-', '')}`
  const now = init.now ?? (() => performance.now())
  // Without a disk to persist a counter, a timestamp is the generation (DESIGN.md).
  const gen = Date.now()
  const node = createRegistryNode({
    nodeId,
    gen,
    now,
    timings: PROFILES.lan,
    tombstoneTtl: PROFILES.lan.tombstoneTtl,
    ...(init.generateId === undefined ? {} : { generateId: init.generateId }),
  })
  let stopped = false
  let lastCollect = now()

  function running(): void {
    if (stopped) throw new AgentStoppedError()
  }

  function collectIfDue(): void {
    const t = now()
    if (t - lastCollect < COLLECT_EVERY_MS) return
    lastCollect = t
    node.tick()
  }

  async function stop(): Promise<void> {
    if (stopped) return
    stopped = true
    node.close()
  }

  return {
    peerId: nodeId,
    addresses: Object.freeze([]),
    ready: Promise.resolve(),

    async register(registration) {
      running()
      const { id } = node.register(registration)
      collectIfDue()
      return id
    },
    async deregister(id) {
      running()
      node.deregister(id)
      collectIfDue()
    },

    ...agentReads(node, running),

    members(): Member[] {
      running()
      return [{ id: nodeId, addresses: [], state: 'alive', gen, lastHeardMsAgo: 0, self: true }]
    },
    stats(): AgentStats {
      running()
      return {
        claims: node.replica.size,
        instances: node.instanceCount,
        conflicts: node.conflicts().length,
        conflictsSeen: node.conflictsSeen,
        // Members include this node, as in `members()`.
        peers: { alive: 1, suspect: 0, dead: 0, left: 0 },
        messagesIn: 0,
        messagesOut: 0,
        bytesIn: 0,
        bytesOut: 0,
        syncSessions: 0,
        dropped: {},
      }
    },

    async leave() {
      running()
      // Watchers and event streams see the deletes (cause `deregistered`) before they end.
      node.deregisterAll()
      await stop()
    },
    stop,
  }
}
