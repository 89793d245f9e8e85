import { createAgent, type GrapevineAgent } from '@grapevine/agent'
import { agentComplianceSuite } from '@grapevine/compliance'
import { afterAll, beforeAll } from 'vitest'
import { loopbackOptions } from './support/cluster.js'

// The networked agent passes the same suite as the local one, joined to a live peer so that
// every call goes through the real replication path.
let peer: GrapevineAgent

beforeAll(async () => {
  peer = await createAgent(loopbackOptions({ cluster: 'compliance' }))
})

afterAll(async () => {
  await peer.stop()
})

agentComplianceSuite('createAgent', async () => ({
  agent: await createAgent(
    loopbackOptions({ cluster: 'compliance', bootstrap: [...peer.addresses] }),
  ),
}))
