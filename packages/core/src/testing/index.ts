/**
 * @grapevine/core/testing — the agent compliance suite that every `Agent` implementation
 * runs (local and networked), and helpers for every package's tests: waits with a deadline
 * and a seeded random generator. Needs vitest (a peer dependency).
 */
export {
  agentComplianceSuite,
  type ComplianceContext,
  type ComplianceOptions,
  type ComplianceSubject,
} from './agent-compliance.js'
export { seededRandom } from './random.js'
export { isPending, type Truthy, uniqueName, waitFor, within } from './wait.js'
