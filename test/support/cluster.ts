import { type AgentOptions, createAgent, type GrapevineAgent } from '@grapevine/agent'

/** Options for in-process test agents: loopback only, no multicast, fast timings. */
export function loopbackOptions(overrides: AgentOptions = {}): AgentOptions {
  return {
    cluster: 'test',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    ...overrides,
  }
}

export interface TestCluster {
  readonly agents: GrapevineAgent[]
  /** Starts one more agent bootstrapped to the first one. */
  add(overrides?: AgentOptions): Promise<GrapevineAgent>
  stop(): Promise<void>
}

/**
 * Starts `size` agents in this process on 127.0.0.1. Node 0 is the seed; the others
 * bootstrap to it (and then meet each other through the seed's heartbeats).
 */
export async function startCluster(
  size: number,
  overrides: AgentOptions = {},
): Promise<TestCluster> {
  const agents: GrapevineAgent[] = []
  const add = async (extra: AgentOptions = {}) => {
    const seed = agents[0]
    const agent = await createAgent(
      loopbackOptions({
        ...overrides,
        ...(seed && { bootstrap: [...seed.addresses] }),
        ...extra,
      }),
    )
    agents.push(agent)
    return agent
  }
  await add()
  await Promise.all(Array.from({ length: size - 1 }, () => add()))
  await Promise.all(agents.map((agent) => agent.ready))
  return {
    agents,
    add,
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop().catch(() => undefined)))
    },
  }
}
