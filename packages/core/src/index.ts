/**
 * @grapevine/core — the pure heart of Grapevine: service instances, dots and version vectors,
 * the replica and its merge rules, the resolved view, queries, watches, and the local agent.
 * No I/O: time comes from an injected monotonic clock.
 *
 * Entry points: `createLocalAgent()` (the `Agent` interface without a network) and
 * `createRegistryNode()` (the engine a networked agent drives). The compliance suite every
 * `Agent` implementation runs is the package `@grapevine/compliance`.
 */
export * from './agent-api.js'
export * from './claim.js'
export {
  type ClaimEntry,
  type ClaimWriter,
  type ClaimWriterInit,
  createClaimWriter,
} from './claim-writer.js'
export { diff } from './diff.js'
export * from './dot.js'
export * from './duration.js'
export { type Endpoint, endpointFor, parseEndpoint } from './endpoint.js'
export * from './errors.js'
export { FNV_OFFSET, fnv1a } from './fnv.js'
export * from './instance.js'
export { createLiveness, type LivenessInit } from './liveness.js'
export * from './liveness-types.js'
export { createLocalAgent, type LocalAgentInit } from './local-agent.js'
export { memberRecordBytes } from './member-record-bytes.js'
export * from './membership-types.js'
export {
  PROFILE_TIMING_KEYS,
  PROFILES,
  type ProfileName,
  type ProfileTimings,
  resolveTimings,
} from './profiles.js'
export { isHealthy, matchesQuery, type ServicesQuery } from './query.js'
export { agentReads, createRegistryNode } from './registry-node.js'
export * from './registry-node-types.js'
export { createReplica, DEFAULT_ORIGIN_QUOTA } from './replica.js'
export * from './replica-types.js'
export { isVisibleState, type Resolution, resolve } from './resolve.js'
export { retransmitLimit } from './retransmit-queue.js'
export * from './signing.js'
export { suspicionTimeout, suspicionTimeoutAfter } from './suspicion.js'
export {
  createSwim,
  type MemberView,
  type Roster,
  type Swim,
  type SwimInit,
  type SwimOutput,
  type SwimStats,
} from './swim.js'
export { SWIM_PROFILES } from './swim-profiles.js'
export * from './version-vector.js'
