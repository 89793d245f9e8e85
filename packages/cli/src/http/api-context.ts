import type { DaemonContext } from '../daemon/front-end.js'

/** What every route module of the HTTP API gets: the daemon's shared context and HTTP settings. */
export interface ApiContext extends DaemonContext {
  /** Interval of SSE keep-alive comments. */
  readonly keepAliveMs: number
}
