import type { ApiAgent } from './agent-extensions.js'
import type { ChangeFeed } from './change-feed.js'

/** What every route module of the HTTP API gets. */
export interface ApiContext {
  readonly agent: ApiAgent
  readonly feed: ChangeFeed
  /** Aborted when the server starts closing, so blocking queries and streams end at once. */
  readonly closing: AbortSignal
  /** Whether `agent.ready` has resolved. */
  isReady(): boolean
  /** Interval of SSE keep-alive comments. */
  readonly keepAliveMs: number
}
