import type { AgentStats, ServiceEvent, ServiceInstance } from '@grapevine/core'
import type { CheckStatusView } from './http/agent-extensions.js'

/** GET /v1/self. */
export interface SelfInfo {
  peerId: string
  /** The node's name (`--node-name`); the peer id for agents without one. */
  nodeName: string
  cluster: string
  addresses: string[]
  ready: boolean
  stats: AgentStats
}

/**
 * One entry of GET /v1/instances: a local instance and its checks in full (kind, timings, the
 * whole output), where the replicated `ServiceInstance.checks` carry only id, name, status and
 * the start of the output.
 */
export interface LocalInstanceView extends Omit<ServiceInstance, 'checks'> {
  checks: CheckStatusView[]
}

/** A message of the watch stream, as the client hands it to commands. */
export type WatchMessage =
  | { type: 'snapshot'; index: number; instances: ServiceInstance[] }
  | {
      type: 'change'
      index: number
      instances: ServiceInstance[]
      /** The last event of the batch. */
      event: ServiceEvent
      /** Every event of the batch that changed the list, in order. */
      events: ServiceEvent[]
    }
