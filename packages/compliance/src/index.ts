/**
 * @grapevine/compliance — the behaviour every Grapevine `Agent` implementation promises, as a
 * vitest suite: the local agent of @grapevine/core and the networked one of @grapevine/agent
 * both run it, and so can any other implementation. A package of its own so that vitest (a peer
 * dependency here) is never a dependency of @grapevine/core; the runner-free helpers it uses
 * (`waitFor`, `within`, `seededRandom`, `uniqueName`) stay in `@grapevine/core/testing`.
 *
 * ```ts
 * agentComplianceSuite('local agent', async () => ({ agent: createLocalAgent() }))
 * ```
 */
export {
  agentComplianceSuite,
  type ComplianceContext,
  type ComplianceOptions,
  type ComplianceSubject,
} from './agent-compliance.js'
