import type { Logger } from 'pino'
import type { ApiAgent } from '../http/agent-extensions.js'
import type { ChangeFeed } from '../http/change-feed.js'

/**
 * What every front end of the daemon shares: one agent, one change feed, one logger, one
 * readiness flag and one shutdown signal. Front ends never create their own feed or read the
 * agent's events themselves, so N front ends cost one event subscription.
 */
export interface DaemonContext {
  readonly agent: ApiAgent
  /** The agent's events, fanned out (blocking queries, SSE, DNS caches). */
  readonly feed: ChangeFeed
  /** A child logger per front end is the front end's business (`logger.child({component})`). */
  readonly logger: Logger
  /** Whether `agent.ready` has resolved (caught up with the peers found at start). */
  isReady(): boolean
  /** Aborted when the daemon starts shutting down, so long polls and streams end at once. */
  readonly closing: AbortSignal
  /** The cluster name: what Consul clients read as the datacenter. */
  readonly cluster: string
  /** This agent's node name (Consul's NodeName, DNS `NODE.node.`); its peer id when unnamed. */
  readonly nodeName: string
  /**
   * Asks the daemon to leave the cluster gracefully and exit, as SIGTERM does
   * (`grapevine leave`). Absent when the API runs without a daemon (embedded).
   */
  readonly leave?: () => void
}

/**
 * One way in to the agent: the native HTTP API (with the Consul-compatible and Prometheus
 * routes beside it), DNS, the dashboard. The daemon binds every front end first, then starts
 * the agent, then starts every front end over the shared context; on shutdown it stops them
 * in reverse order after the agent has left.
 *
 * Binding before the agent exists means a port in use fails fast, before the node joins the
 * cluster. Between `listen` and `start` a front end answers "not yet" (HTTP 503, DNS SERVFAIL)
 * rather than leaving a client hanging.
 *
 * HTTP-based front ends do not open their own port: they are `HttpRoutes` on the one HTTP
 * server (see `http/http-routes.ts`).
 */
export interface FrontEnd {
  /** Short name for logs and errors: `http`, `dns`. */
  readonly name: string
  /**
   * Binds the front end's sockets and resolves with where it listens (`http://127.0.0.1:8510`,
   * `127.0.0.1:8600`); rejects with a `ListenError` when it cannot.
   */
  listen(): Promise<string>
  /** Starts answering from the shared context. Called once, after `listen`. */
  start(ctx: DaemonContext): Promise<void>
  /** Stops answering and closes the sockets. Idempotent; safe before `start`. */
  stop(): Promise<void>
}
