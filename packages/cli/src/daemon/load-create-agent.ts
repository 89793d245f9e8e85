import type { AgentOptions } from '@grapevine/agent'
import type { ApiAgent } from '../http/agent-extensions.js'

export type CreateAgent = (options: AgentOptions) => Promise<ApiAgent>

/**
 * Loads `createAgent` from @grapevine/agent on demand, so that client commands never load
 * libp2p and start fast.
 */
export async function loadCreateAgent(): Promise<CreateAgent> {
  const { createAgent } = await import('@grapevine/agent')
  return createAgent
}
