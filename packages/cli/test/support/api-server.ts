import { createLocalAgent } from '@grapevine/core'
import pino from 'pino'
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
  options: { token?: string; agent?: ApiAgent; keepAliveMs?: number } = {},
): Promise<TestServer> {
  const agent: ApiAgent = options.agent ?? createLocalAgent({ nodeId: 'node-a' })
  const api = createHttpApi({
    agent,
    logger: pino({ level: 'silent' }),
    ...(options.token === undefined ? {} : { token: options.token }),
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
