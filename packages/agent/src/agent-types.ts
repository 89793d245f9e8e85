import type { Agent, Registration } from '@grapevine/core'
import type { CheckDefinitionInput, CheckInfo, TtlReport } from './checks/index.js'

/** A registration with health checks that this agent runs for the instance. */
export interface AgentRegistration extends Registration {
  /**
   * Health checks run by this agent. The instance starts `critical` (unless a check says
   * otherwise) until its checks pass; status changes replicate to every node.
   */
  checks?: CheckDefinitionInput[]
}

/** The networked agent: the `Agent` interface plus health checks. */
export interface GrapevineAgent extends Agent {
  /** This node's name (`AgentOptions.nodeName`, the host name by default). */
  readonly nodeName: string
  register(registration: AgentRegistration): Promise<string>
  /** Feeds a TTL check: `pass`, `warn` or `fail` before its TTL runs out. */
  ttl(instanceId: string, checkId: string, report: TtlReport, note?: string): void
  /** The checks of one of this node's instances, for display; undefined when it has none. */
  checks(instanceId: string): CheckInfo[] | undefined
}
