import { readdirSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import type { AgentOptions } from '@grapevine/agent'
import type { Logger } from 'pino'
import type { AgentConfig } from '../config/agent-config.js'
import { consulRoutes } from '../consul/consul-routes.js'
import { dashboardRoutes } from '../dashboard/dashboard-routes.js'
import { createDnsFrontEnd } from '../dns/dns-front-end.js'
import { ConfigError } from '../errors.js'
import type { ApiAgent } from '../http/agent-extensions.js'
import { createHttpFrontEnd } from '../http/http-front-end.js'
import { type HttpRoutes, nativeRoutes } from '../http/http-routes.js'
import { prometheusSdRoutes } from '../http/prometheus-sd-routes.js'
import { type ConfigDirResult, createConfigDirServices } from './config-dir.js'
import { createDaemonContext } from './daemon-context.js'
import type { FrontEnd } from './front-end.js'
import type { CreateAgent } from './load-create-agent.js'

export { ListenError } from './listen-error.js'

import { unkeyedWarning } from './unkeyed-warning.js'

export interface DaemonDeps {
  createAgent: CreateAgent
  logger: Logger
  readFile: (path: string) => string
  /** Lists a directory (`--config-dir`). @default fs.readdirSync */
  listDir?: (path: string) => string[]
  /**
   * Route sets served beside the native API on the HTTP port.
   * @default the Consul-compatible routes and Prometheus service discovery
   */
  httpRoutes?: readonly HttpRoutes[]
  /** Front ends beside HTTP (and DNS, when `config.dnsAddr` is set). @default none */
  frontEnds?: readonly FrontEnd[]
}

/** A running `grapevine agent`. */
export interface Daemon {
  readonly agent: ApiAgent
  /** Base URL of the HTTP API. */
  readonly url: string
  /** Where each front end listens, by name (`http`, `dns`, …). */
  readonly listening: Readonly<Record<string, string>>
  /**
   * Leaves the cluster gracefully (deregisters this node's instances and tells the peers),
   * falling back to a plain stop after `leaveTimeout`, then closes every front end. Idempotent.
   */
  shutdown(reason: string): Promise<void>
  readonly shuttingDown: boolean
  /** Resolves once a shutdown finished, whoever asked for it (a signal, `grapevine leave`). */
  readonly done: Promise<void>
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
    checkUpdateInterval: config.checkUpdateInterval,
  }
  if (config.announce.length > 0) options.announce = config.announce
  if (config.dataDir !== undefined) options.dataDir = config.dataDir
  if (config.nodeName !== undefined) options.nodeName = config.nodeName
  if (config.clusterKeyFile !== undefined) options.clusterKey = readFile(config.clusterKeyFile)
  return options
}

/** The front ends a config asks for, HTTP first (its URL is the daemon's `url`). */
function frontEndsFor(config: AgentConfig, deps: DaemonDeps): FrontEnd[] {
  const extraRoutes = deps.httpRoutes ?? [consulRoutes(), prometheusSdRoutes()]
  const http = createHttpFrontEnd({
    address: config.httpAddr,
    routes: [nativeRoutes({ processMetrics: true }), dashboardRoutes(), ...extraRoutes],
    ...(config.token !== undefined && { token: config.token }),
    tokenExempt: config.tokenExempt,
  })
  const dns =
    config.dnsAddr === undefined
      ? []
      : [
          createDnsFrontEnd({
            address: config.dnsAddr,
            domain: config.dnsDomain,
            ttlMs: config.dnsTtl,
          }),
        ]
  return [http, ...dns, ...(deps.frontEnds ?? [])]
}

/**
 * Starts the daemon: binds every front end (so a port in use fails before the node joins the
 * cluster), starts the agent, then lets the front ends answer over one shared context.
 */
export async function startDaemon(config: AgentConfig, deps: DaemonDeps): Promise<Daemon> {
  const { logger } = deps
  const frontEnds = frontEndsFor(config, deps)
  const listening: Record<string, string> = {}
  try {
    for (const frontEnd of frontEnds) listening[frontEnd.name] = await frontEnd.listen()
  } catch (err) {
    await Promise.all(frontEnds.map((frontEnd) => frontEnd.stop().catch(() => {})))
    throw err
  }

  let agent: ApiAgent
  try {
    if (config.dataDir !== undefined) await mkdir(config.dataDir, { recursive: true })
    agent = await deps.createAgent(toAgentOptions(config, deps.readFile))
  } catch (err) {
    await Promise.all(frontEnds.map((frontEnd) => frontEnd.stop().catch(() => {})))
    throw err
  }
  const context = createDaemonContext({
    agent,
    logger,
    cluster: config.cluster,
    ...(agent.nodeName !== undefined && { nodeName: agent.nodeName }),
    // Later than the response that asked for it, so the client hears "leaving" first.
    leave: () => setImmediate(() => void daemon.shutdown('leave requested over the HTTP API')),
  })
  for (const frontEnd of frontEnds) await frontEnd.start(context.ctx)

  const configDir =
    config.configDir === undefined
      ? undefined
      : createConfigDirServices({
          dir: config.configDir,
          agent,
          listDir: deps.listDir ?? ((path) => readdirSync(path)),
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
      context.close()
      await Promise.all(frontEnds.map((frontEnd) => frontEnd.stop().catch(() => {})))
      throw new ConfigError('configDir', config.configDir!, failures.join('; '))
    }
  }

  const url = listening.http!
  // The demo and tests read `http`, `dns` and `addresses` from this line to find the node.
  logger.info(
    {
      peerId: agent.peerId,
      nodeName: context.ctx.nodeName,
      addresses: agent.addresses,
      ...listening,
      cluster: config.cluster,
      profile: config.profile,
      mdns: config.mdns,
      bootstrap: config.bootstrap,
      dataDir: config.dataDir ?? null,
      token: config.token !== undefined,
    },
    'agent started',
  )
  const unkeyed = unkeyedWarning(config.listen, config.clusterKeyFile !== undefined)
  if (unkeyed !== undefined) logger.warn({ listen: config.listen }, unkeyed)
  agent.ready.then(
    () => logger.info('agent ready'),
    () => {},
  )

  let shutdown: Promise<void> | undefined
  let finished: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    finished = resolve
  })
  const daemon: Daemon = {
    done,
    agent,
    url,
    listening,
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
        // Ends long polls and streams first, so no front end waits on them while closing.
        context.close()
        for (const frontEnd of [...frontEnds].reverse()) {
          await frontEnd.stop().catch((err: unknown) => {
            logger.error({ err, frontEnd: frontEnd.name }, 'front end did not stop cleanly')
          })
        }
        logger.info('agent stopped')
        finished()
      })()
      return shutdown
    },
  }
  return daemon
}
