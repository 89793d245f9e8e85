import { createLocalAgent } from '@grapevine/core'
import pino from 'pino'
import { afterEach, beforeEach } from 'vitest'
import type { TokenExempt } from '../../src/config/agent-config.js'
import type { ApiAgent } from '../../src/http/agent-extensions.js'
import { createHttpApi, type HttpApi } from '../../src/http/http-api.js'

export interface TestServer {
  agent: ApiAgent
  api: HttpApi
  /** `http://127.0.0.1:<port>` */
  url: string
  /** `127.0.0.1:<port>`, for --http-addr. */
  addr: string
  close(): Promise<void>
}

/** An HTTP API on a local agent, listening on a free loopback port. */
export async function startTestServer(
  options: {
    token?: string
    tokenExempt?: readonly TokenExempt[]
    agent?: ApiAgent
    keepAliveMs?: number
  } = {},
): Promise<TestServer> {
  const agent: ApiAgent = options.agent ?? createLocalAgent({ nodeId: 'node-a' })
  const api = createHttpApi({
    agent,
    logger: pino({ level: 'silent' }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.tokenExempt === undefined ? {} : { tokenExempt: options.tokenExempt }),
    ...(options.keepAliveMs === undefined ? {} : { keepAliveMs: options.keepAliveMs }),
  })
  const url = await api.listen('127.0.0.1:0')
  return {
    agent,
    api,
    url,
    addr: url.replace('http://', ''),
    async close() {
      await api.close()
      await agent.stop()
    },
  }
}

/**
 * Starts a test server before each test and closes it after. The handle it returns stands for
 * the current test's server, so a test file can hold it in a module-level const.
 */
export function useTestServer(options: Parameters<typeof startTestServer>[0] = {}): TestServer {
  let current: TestServer | undefined
  beforeEach(async () => {
    current = await startTestServer(options)
  })
  afterEach(async () => {
    await server().close()
  })
  function server(): TestServer {
    if (current === undefined) throw new Error('useTestServer: no server outside a test')
    return current
  }
  return {
    get agent() {
      return server().agent
    },
    get api() {
      return server().api
    },
    get url() {
      return server().url
    },
    get addr() {
      return server().addr
    },
    close: () => server().close(),
  }
}

/** An instance with every field set: what most tests register first. */
export const web1 = {
  id: 'web-1',
  name: 'web',
  version: 'v1',
  endpoints: ['http://127.0.0.1:8080'],
  tags: ['edge'],
  metadata: { zone: 'a' },
}

/** Registers web-1, web-2 (v2, critical) and db-1. */
export async function seedInstances(agent: ApiAgent): Promise<void> {
  await agent.register(web1)
  await agent.register({ id: 'web-2', name: 'web', version: 'v2', status: 'critical' })
  await agent.register({ id: 'db-1', name: 'db' })
}
