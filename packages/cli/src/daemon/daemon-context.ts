import type { Logger } from 'pino'
import type { ApiAgent } from '../http/agent-extensions.js'
import { createChangeFeed } from '../http/change-feed.js'
import type { DaemonContext } from './front-end.js'

export interface DaemonContextInit {
  agent: ApiAgent
  logger: Logger
  cluster: string
  /** @default the agent's peer id */
  nodeName?: string
  /** See `DaemonContext.leave`. */
  leave?: () => void
}

/** The shared context and the one call that ends it (aborts `closing`, closes the feed). */
export interface OwnedDaemonContext {
  readonly ctx: DaemonContext
  close(): void
}

/** Creates the context every front end of one agent shares: one change feed, one readiness. */
export function createDaemonContext(init: DaemonContextInit): OwnedDaemonContext {
  const { agent, logger } = init
  let ready = false
  agent.ready.then(
    () => {
      ready = true
    },
    (err: unknown) => logger.error({ err }, 'agent never became ready'),
  )
  const closing = new AbortController()
  const feed = createChangeFeed(agent, (err) => logger.error({ err }, 'change feed failed'))
  return {
    ctx: {
      agent,
      feed,
      logger,
      isReady: () => ready,
      closing: closing.signal,
      cluster: init.cluster,
      nodeName: init.nodeName ?? agent.peerId,
      ...(init.leave !== undefined && { leave: init.leave }),
    },
    close() {
      closing.abort()
      feed.close()
    },
  }
}
