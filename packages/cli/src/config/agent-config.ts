import type { AgentTimings } from '@grapevine/agent'

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
export const LOG_LEVELS: readonly LogLevel[] = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
]

/**
 * Everything `grapevine agent` runs with, after flags, environment and config file are merged
 * (see `CONFIG_OPTIONS` for each field's flag, variable and default). Timings left undefined
 * take the profile's value.
 */
export interface AgentConfig {
  /** Development mode (`--dev`): the defaults below change, see `DEV_DEFAULTS`. */
  dev: boolean
  cluster: string
  nodeName: string | undefined
  listen: string[]
  announce: string[]
  bootstrap: string[]
  mdns: boolean
  dataDir: string | undefined
  clusterKeyFile: string | undefined
  profile: 'lan' | 'wan'
  httpAddr: string
  /** DNS interface (UDP and TCP); undefined when turned off. */
  dnsAddr: string | undefined
  /** The DNS zone answered, without dots: `NAME.service.<domain>.` */
  dnsDomain: string
  /** TTL of DNS answers, in milliseconds (sent rounded down to whole seconds). */
  dnsTtl: number
  token: string | undefined
  /** Routes left open when a token is set (probes and metrics); /health always is. */
  tokenExempt: TokenExempt[]
  /** Directory of JSON service definitions registered at start and on SIGHUP. */
  configDir: string | undefined
  /** How long a change of check output alone waits to replicate, in milliseconds. */
  checkUpdateInterval: number
  logLevel: LogLevel
  leaveTimeout: number
  timings: Partial<AgentTimings>
}

/** Routes `--token-exempt` can leave open: Kubernetes probes and Prometheus scrapes. */
export type TokenExempt = 'ready' | 'metrics'
export const TOKEN_EXEMPT_ROUTES: readonly TokenExempt[] = ['ready', 'metrics']

/**
 * The default HTTP address of the agent, shared by the daemon and the client commands so that
 * both sides agree without configuration. 8510, not Consul's 8500, so that both can run on
 * one machine.
 */
export const DEFAULT_HTTP_ADDR = '127.0.0.1:8510'

/**
 * The default gossip listen address. A fixed port (Serf's 7946), unlike `createAgent`'s port
 * 0, because other nodes' `--bootstrap` lists name it; mDNS peers do not care either way.
 */
export const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/7946'

/**
 * The default DNS address: Consul's 8600, so that resolver set-ups written for Consul's DNS
 * (dnsmasq, systemd-resolved, CoreDNS forwarding) work unchanged. Loopback, like the HTTP API.
 */
export const DEFAULT_DNS_ADDR = '127.0.0.1:8600'

/** The default DNS domain: `web.service.grapevine.` (Consul's is `consul`). */
export const DEFAULT_DNS_DOMAIN = 'grapevine'
