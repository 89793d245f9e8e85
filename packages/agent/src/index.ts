/**
 * @grapevine/agent — the embeddable Grapevine agent. `createAgent()` joins a cluster over
 * libp2p, replicates registrations, runs health checks for this node's own instances and
 * answers queries and watches from the local replica.
 *
 * ```ts
 * const agent = await createAgent({ cluster: 'demo' })
 * await agent.ready
 * await agent.register({ name: 'api', endpoints: ['http://10.0.0.5:8080'] })
 * ```
 */

export type { AgentOptions, AgentTimings } from './agent-options.js'
export type { AgentRegistration, GrapevineAgent } from './agent-types.js'
export type { CheckDefinitionInput, CheckInfo, TtlReport } from './checks/index.js'
export { CheckNotFoundError, NotTtlCheckError } from './checks/index.js'
export { generateClusterKey } from './cluster-key.js'
export { createAgent } from './create-agent.js'
export { DataDirCorruptError, DataDirWriteError } from './data-dir-errors.js'
