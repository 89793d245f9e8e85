import type { AgentStats } from '@grapevine/core'
import type { Logger } from '@libp2p/interface'
import type { DropReason } from './errors.js'

/**
 * Network counters of one node since it started: the network half of `AgentStats`, whose
 * fields document them. Here `dropped` is keyed by `DropReason`.
 */
export type NetworkStats = Pick<
  AgentStats,
  'messagesIn' | 'messagesOut' | 'bytesIn' | 'bytesOut' | 'syncSessions' | 'dropped'
>

/** The mutable side of `NetworkStats`, shared by the pubsub channel and the sync protocol. */
export interface NetworkCounters {
  received(bytes: number): void
  sent(bytes: number): void
  syncSession(): void
  /**
   * Counts `count` drops (one message, or the claims cut from one) and logs why, once (debug
   * level: a hostile peer must not flood the logs).
   */
  drop(reason: DropReason, from: string, detail: string, count?: number): void
  snapshot(): NetworkStats
}

export function createNetworkCounters(log: Logger): NetworkCounters {
  let messagesIn = 0
  let messagesOut = 0
  let bytesIn = 0
  let bytesOut = 0
  let syncSessions = 0
  const dropped: Record<string, number> = {}
  return {
    received(bytes) {
      messagesIn++
      bytesIn += bytes
    },
    sent(bytes) {
      messagesOut++
      bytesOut += bytes
    },
    syncSession() {
      syncSessions++
    },
    drop(reason, from, detail, count = 1) {
      dropped[reason] = (dropped[reason] ?? 0) + count
      log('dropped (%s) from %s: %s', reason, from, detail)
    },
    snapshot: () => ({
      messagesIn,
      messagesOut,
      bytesIn,
      bytesOut,
      syncSessions,
      dropped: { ...dropped },
    }),
  }
}
