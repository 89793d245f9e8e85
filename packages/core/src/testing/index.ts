/**
 * @grapevine/core/testing — the agent compliance suite that every `Agent` implementation
 * runs (local and networked), and its waiting helpers. Needs vitest (a peer dependency).
 */
export {
  agentComplianceSuite,
  type ComplianceContext,
  type ComplianceOptions,
  type ComplianceSubject,
} from './agent-compliance.js'
export { isPending, uniqueName, within } from './wait.js'
