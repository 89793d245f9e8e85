import { createLocalAgent } from '@grapevine/core'
import { agentComplianceSuite } from '../src/index.js'

// The networked agent runs the same suite in test/agent-compliance.test.ts.
agentComplianceSuite('local agent', async () => ({ agent: createLocalAgent() }))
