import type { Agent, AgentStats, MemberState } from '@grapevine/core'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'

const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left']

export interface Metrics {
  readonly contentType: string
  /** The Prometheus text exposition of the agent's current stats. */
  render(): Promise<string>
}

/**
 * Prometheus metrics read from `agent.stats()` at scrape time, so nothing in the agent has to
 * know about Prometheus. A registry per API, not prom-client's global one, so several agents
 * in one process (tests) do not collide.
 */
export function createMetrics(
  agent: Pick<Agent, 'stats'>,
  {
    processMetrics = false,
    node,
  }: {
    processMetrics?: boolean
    /** This node, for `grapevine_node_info{node_name, peer_id}`. */
    node?: { readonly peerId: string; readonly name: string }
  } = {},
): Metrics {
  const registry = new Registry()
  if (node !== undefined) {
    // The info-metric idiom (value 1, facts in labels): join it on `instance` to name a node.
    new Gauge({
      name: 'grapevine_node_info',
      help: "This agent's node name and peer id.",
      labelNames: ['node_name', 'peer_id'],
      registers: [registry],
    }).set({ node_name: node.name, peer_id: node.peerId }, 1)
  }
  // Unprefixed (process_*, nodejs_*), the names stock Node.js dashboards expect. prom-client
  // samples the event loop delay with a 10 ms timer by default: 200 wake-ups a second, which
  // made an idle agent alone cost 1.6% of a core (4× its JavaScript). Once a second is enough
  // for a gauge scraped every 15 s, and lag above a second is what the histogram is for. Even
  // that timer waits for the first scrape: on this VM a wake-up of an idle process costs
  // ~0.3 ms, and an agent nobody scrapes should not pay for a histogram nobody reads.
  let defaultMetricsPending = processMetrics

  // One stats() call per scrape (taken in render), shared by every collector of that scrape.
  let current: AgentStats | undefined
  const stats = (): AgentStats => {
    current ??= agent.stats()
    return current
  }

  gauge(
    registry,
    'grapevine_replica_claims',
    'Claims stored in the replica, tombstones included.',
    () => stats().claims,
  )
  gauge(
    registry,
    'grapevine_instances',
    'Visible (resolved) service instances.',
    () => stats().instances,
  )
  gauge(
    registry,
    'grapevine_conflicts',
    'Instance ids claimed by several live nodes now (concurrent registrations or takeover attempts).',
    () => stats().conflicts,
  )
  new Gauge({
    name: 'grapevine_peers',
    help: 'Known cluster members by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const peers = stats().peers
      for (const state of MEMBER_STATES) this.set({ state }, peers[state] ?? 0)
    },
  })
  const counters = createCounterMirror(registry)
  counters.define(
    'grapevine_messages_total',
    'Gossip messages by direction.',
    ['direction'],
    () => [
      [{ direction: 'in' }, stats().messagesIn],
      [{ direction: 'out' }, stats().messagesOut],
    ],
  )
  counters.define('grapevine_bytes_total', 'Gossip bytes by direction.', ['direction'], () => [
    [{ direction: 'in' }, stats().bytesIn],
    [{ direction: 'out' }, stats().bytesOut],
  ])
  counters.define('grapevine_sync_sessions_total', 'Anti-entropy sync sessions.', [], () => [
    [{}, stats().syncSessions],
  ])
  counters.define(
    'grapevine_conflicts_detected_total',
    'Conflicts detected: an id claimed while a live owner held it (the owner keeps it), or registered concurrently.',
    [],
    () => [[{}, stats().conflictsSeen]],
  )
  counters.define(
    'grapevine_dropped_messages_total',
    'Messages and frames dropped, by reason (decode, schema, signer, oversize, stale…).',
    ['reason'],
    () => Object.entries(stats().dropped).map(([reason, n]) => [{ reason }, n]),
  )

  return {
    contentType: registry.contentType,
    async render() {
      if (defaultMetricsPending) {
        defaultMetricsPending = false
        collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1_000 })
      }
      current = agent.stats()
      try {
        return await registry.metrics()
      } finally {
        current = undefined
      }
    },
  }
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read())
    },
  })
}

type Labels = Record<string, string>

/**
 * Prometheus counters that mirror cumulative totals kept by the agent: each scrape adds the
 * growth since the previous one. A total that went down (a new agent behind the same API)
 * restarts the counter, which Prometheus' rate() reads as a counter reset.
 */
function createCounterMirror(registry: Registry) {
  return {
    define(
      name: string,
      help: string,
      labelNames: string[],
      read: () => Array<readonly [Labels, number]>,
    ): void {
      const last = new Map<string, number>()
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          const entries = read().map(
            ([labels, total]) => [JSON.stringify(labels), labels, total] as const,
          )
          if (entries.some(([key, , total]) => total < (last.get(key) ?? 0))) {
            this.reset()
            last.clear()
          }
          // inc by 0 still creates the series, so a reason shows up before its first drop.
          for (const [key, labels, total] of entries) {
            this.inc(labels, total - (last.get(key) ?? 0))
            last.set(key, total)
          }
        },
      })
    },
  }
}
