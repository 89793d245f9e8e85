/**
 * @grapevine/core — the pure heart of Grapevine: service instances, dots and version vectors,
 * the replica and its merge rules, the resolved view, queries, watches, and the local agent.
 * No I/O: time comes from an injected monotonic clock.
 */
export * from './agent-api.js'
export * from './claim.js'
export * from './dot.js'
export * from './endpoint.js'
export * from './errors.js'
export * from './instance.js'
export * from './liveness-types.js'
export * from './registry-node-types.js'
export * from './replica-types.js'
export * from './version-vector.js'
