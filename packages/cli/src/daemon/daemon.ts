import { mkdir } from 'node:fs/promises'
import type { AgentOptions } from '@grapevine/agent'
import { GrapevineError } from '@grapevine/core'
import type { Logger } from 'pino'
import type { AgentConfig } from '../config/agent-config.js'
import { ConfigError } from '../errors.js'
import type { ApiAgent } from '../http/agent-extensions.js'
import { createHttpApi } from '../http/http-api.js'
import { type ConfigDirResult, createConfigDirServices } from './config-dir.js'
import type { CreateAgent } from './load-create-agent.js'

/** Thrown when the HTTP API cannot bind its address (usually: another agent runs there). */
export class HttpListenError extends GrapevineError {
  static readonly code = 'ERR_HTTP_LISTEN'
  constructor(address: string, reason: string) {
    super(
      HttpListenError.code,
      `cannot serve the HTTP API on ${address}: ${reason}. Is another agent running there? Choose another with --http-addr`,
    )
  }
}

export interface DaemonDeps {
  createAgent: CreateAgent
  logger: Logger
  readFile: (path: string) => string
  /** Lists a directory (`--config-dir`). */
  listDir: (path: string) => string[]
}

/** A running `grapevine agent`. */
export interface Daemon {
  readonly agent: ApiAgent
  /** Base URL of the HTTP API. */
  readonly url: string
  /**
   * Leaves the cluster gracefully (deregisters this node's instances and tells the peers),
   * falling back to a plain stop after `leaveTimeout`, then closes the HTTP API. Idempotent.
   */
  shutdown(reason: string): Promise<void>
  readonly shuttingDown: boolean
  /**
   * Re-reads `--config-dir` (on SIGHUP): registers what the files declare, deregisters what
   * they no longer do. Undefined without a config dir. A broken file is logged and changes
   * nothing of what it declared before.
   */
  reload(): Promise<ConfigDirResult | undefined>
}

/** The agent options a config stands for (cluster key read from its file). */
export function toAgentOptions(
  config: AgentConfig,
  readFile: (path: string) => string,
): AgentOptions {
  const options: AgentOptions = {
    cluster: config.cluster,
    listen: config.listen,
    bootstrap: config.bootstrap,
    mdns: config.mdns,
    profile: config.profile,
    timings: config.timings,
  }
  if (config.announce.length > 0) options.announce = config.announce
  if (config.dataDir !== undefined) options.dataDir = config.dataDir
  if (config.nodeName !== undefined) options.nodeName = config.nodeName
  if (config.clusterKeyFile !== undefined) options.clusterKey = readFile(config.clusterKeyFile)
  return options
}

/** Starts the agent and its HTTP API. */
export async function startDaemon(config: AgentConfig, deps: DaemonDeps): Promise<Daemon> {
  const { logger } = deps
  if (config.dataDir !== undefined) await mkdir(config.dataDir, { recursive: true })
  const agent = await deps.createAgent(toAgentOptions(config, deps.readFile))
  const api = createHttpApi({
    agent,
    logger: logger.child({ component: 'http' }),
    ...(config.token === undefined ? {} : { token: config.token }),
    tokenExempt: config.tokenExempt,
    processMetrics: true,
  })
  let url: string
  try {
    url = await api.listen(config.httpAddr)
  } catch (err) {
    await agent.stop()
    const code = (err as { code?: unknown }).code
    throw new HttpListenError(
      config.httpAddr,
      code === 'EADDRINUSE' ? 'the address is in use' : (err as Error).message,
    )
  }
  const configDir =
    config.configDir === undefined
      ? undefined
      : createConfigDirServices({
          dir: config.configDir,
          agent,
          listDir: deps.listDir,
          readFile: deps.readFile,
          logger: logger.child({ component: 'config-dir' }),
        })
  if (configDir !== undefined) {
    // At start a bad definition stops the agent, as a bad setting does: better than running
    // without a service the operator declared.
    const loaded = await configDir.load().catch((err: unknown) => err as Error)
    const failures =
      loaded instanceof Error
        ? [loaded.message]
        : loaded.failed.map((f) => `${f.file}${f.id ? ` (${f.id})` : ''}: ${f.message}`)
    if (failures.length > 0) {
      await agent.stop().catch(() => {})
      await api.close()
      throw new ConfigError('configDir', config.configDir!, failures.join('; '))
    }
  }
  // The demo and tests read `http` and `addresses` from this line to find the node.
  logger.info(
    {
      peerId: agent.peerId,
      addresses: agent.addresses,
      http: url,
      cluster: config.cluster,
      profile: config.profile,
      mdns: config.mdns,
      bootstrap: config.bootstrap,
      dataDir: config.dataDir ?? null,
      token: config.token !== undefined,
    },
    'agent started',
  )
  agent.ready.then(
    () => logger.info('agent ready'),
    () => {},
  )

  let shutdown: Promise<void> | undefined
  return {
    agent,
    url,
    get shuttingDown() {
      return shutdown !== undefined
    },
    async reload() {
      if (configDir === undefined || shutdown !== undefined) return undefined
      return configDir.load()
    },
    shutdown(reason) {
      shutdown ??= (async () => {
        logger.info({ reason }, 'leaving the cluster')
        let timer: NodeJS.Timeout | undefined
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), config.leaveTimeout)
        })
        try {
          const outcome = await Promise.race([agent.leave().then(() => 'left' as const), timedOut])
          if (outcome === 'timeout') {
            logger.warn({ leaveTimeout: config.leaveTimeout }, 'leave timed out; stopping')
            await agent.stop()
          }
        } catch (err) {
          logger.error({ err }, 'leave failed; stopping')
          await agent.stop().catch(() => {})
        } finally {
          clearTimeout(timer)
        }
        await api.close()
        logger.info('agent stopped')
      })()
      return shutdown
    },
  }
}
