import type { PROFILE_TIMING_KEYS } from '@grapevine/core'
import {
  type AgentConfig,
  DEFAULT_DNS_ADDR,
  DEFAULT_DNS_DOMAIN,
  DEFAULT_HTTP_ADDR,
  DEFAULT_LISTEN,
  LOG_LEVELS,
  TOKEN_EXEMPT_ROUTES,
} from './agent-config.js'

/** How a value is read from a flag or variable (a string) or from the config file (JSON). */
export type OptionType =
  | 'string'
  | 'secret'
  | 'path'
  | 'boolean'
  | 'duration'
  | 'address'
  /** A DNS name such as `grapevine` or `sd.example.com`, stored lower case without dots at the ends. */
  | 'domain'
  /** `host:port`, or `off` to turn the listener off. */
  | 'optional-address'
  | 'multiaddrs'
  | { choices: readonly string[] }
  /** A list (repeated, comma-separated or a JSON array) of some of these words. */
  | { someOf: readonly string[] }

/**
 * The profile timings the CLI exposes: the durations an operator tunes. Membership's counts
 * and multipliers (`indirectChecks`, `suspicionMult`…) stay at their profile values; the
 * library (`AgentOptions.timings`) can still set them.
 */
const CLI_TIMING_KEYS = [
  'probeInterval',
  'probeTimeout',
  'deadAfter',
  'purgeAfter',
  'syncInterval',
  'tombstoneTtl',
] as const satisfies readonly (typeof PROFILE_TIMING_KEYS)[number][]

/** Timing fields, set under `AgentConfig.timings`; the rest are top-level fields. */
export const TIMING_KEYS = [...CLI_TIMING_KEYS, 'readyTimeout'] as const
export type TimingKey = (typeof TIMING_KEYS)[number]

export type ConfigKey = Exclude<keyof AgentConfig, 'timings'> | TimingKey

/**
 * One setting of `grapevine agent`. The same key is the config file's field, the flag is its
 * kebab-case form and the variable is `GRAPEVINE_` + upper snake case, so a user who knows one
 * spelling can guess the others. CONFIG.md is generated from this table (a test keeps it so).
 */
export interface ConfigOption {
  readonly key: ConfigKey
  readonly type: OptionType
  /** Commander's value placeholder, such as `<name>`. */
  readonly placeholder: string
  /** Shown in CONFIG.md; `undefined` means unset. */
  readonly defaultText: string
  readonly description: string
}

export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  {
    key: 'dev',
    type: 'boolean',
    placeholder: '[enabled]',
    defaultText: 'false',
    description:
      'Try Grapevine on one machine: cluster `dev`, gossip on 127.0.0.1 (any free port), no mDNS, memory only, warnings-only logs, and a note on stderr of where the dashboard, API and DNS are. Any setting given still wins.',
  },
  {
    key: 'cluster',
    type: 'string',
    placeholder: '<name>',
    defaultText: 'default',
    description: 'Cluster name; only agents with the same name replicate each other.',
  },
  {
    key: 'nodeName',
    type: 'string',
    placeholder: '<name>',
    defaultText: '(host name)',
    description:
      "This node's name, shown next to its peer id in `members`, instances, the dashboard and the metrics. Need not be unique.",
  },
  {
    key: 'listen',
    type: 'multiaddrs',
    placeholder: '<addr>',
    defaultText: DEFAULT_LISTEN,
    description:
      'Gossip listen addresses: multiaddrs or `host:port`, repeatable or comma-separated.',
  },
  {
    key: 'announce',
    type: 'multiaddrs',
    placeholder: '<addr>',
    defaultText: '(listen addresses)',
    description: 'Addresses to advertise instead of the listen addresses (NAT, containers).',
  },
  {
    key: 'bootstrap',
    type: 'multiaddrs',
    placeholder: '<addr>',
    defaultText: '(none)',
    description:
      'Peers to dial at start and whenever disconnected: multiaddrs (with or without `/p2p/<id>`) or `host:port`.',
  },
  {
    key: 'mdns',
    type: 'boolean',
    placeholder: '[enabled]',
    defaultText: 'true',
    description: 'Find peers on the LAN by multicast DNS (`--mdns=false` to turn off).',
  },
  {
    key: 'dataDir',
    type: 'path',
    placeholder: '<dir>',
    defaultText: '(memory only)',
    description:
      'Directory for identity, generation and own registrations; without it a restart is a new node.',
  },
  {
    key: 'clusterKeyFile',
    type: 'path',
    placeholder: '<file>',
    defaultText: '(none)',
    description:
      'File holding the pre-shared cluster key (swarm.key); only holders can join. Without it any node with the same cluster name can.',
  },
  {
    key: 'profile',
    type: { choices: ['lan', 'wan'] },
    placeholder: '<profile>',
    defaultText: 'lan',
    description:
      '`lan` detects failures fast; `wan` tolerates slow links. Timings below override it.',
  },
  {
    key: 'httpAddr',
    type: 'address',
    placeholder: '<host:port>',
    defaultText: DEFAULT_HTTP_ADDR,
    description:
      'HTTP API address. Loopback by default; client commands use the same setting to find the agent.',
  },
  {
    key: 'dnsAddr',
    type: 'optional-address',
    placeholder: '<host:port>',
    defaultText: DEFAULT_DNS_ADDR,
    description:
      'DNS interface (UDP and TCP): `NAME.service.<domain>` A/AAAA/SRV of healthy instances. `off` turns it off.',
  },
  {
    key: 'dnsDomain',
    type: 'domain',
    placeholder: '<domain>',
    defaultText: DEFAULT_DNS_DOMAIN,
    description: 'The DNS zone the agent answers for (Consul uses `consul`).',
  },
  {
    key: 'dnsTtl',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '0s',
    description:
      'TTL of DNS answers, whole seconds. 0 (as Consul) makes resolvers ask again each time, so failed instances drop out at once.',
  },
  {
    key: 'token',
    type: 'secret',
    placeholder: '<token>',
    defaultText: '(none)',
    description:
      'Bearer token the HTTP API requires on every route but /health and the dashboard page itself (its data needs the token); client commands send it. Prefer the variable to the flag (flags show in `ps`).',
  },
  {
    key: 'tokenExempt',
    type: { someOf: TOKEN_EXEMPT_ROUTES },
    placeholder: '<routes>',
    defaultText: '(none)',
    description:
      'Routes that stay open when a token is set, for Kubernetes probes and Prometheus: `ready`, `metrics` (comma-separated).',
  },
  {
    key: 'configDir',
    type: 'path',
    placeholder: '<dir>',
    defaultText: '(none)',
    description:
      'Directory of `*.json` service definitions (Consul-style `service`/`services` blocks with checks), registered at start and kept in step on SIGHUP.',
  },
  {
    key: 'checkUpdateInterval',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '5m',
    description:
      "Longest a change of a check's output alone waits to replicate to other nodes (Consul's `check_update_interval`); status changes replicate at once.",
  },
  {
    key: 'logLevel',
    type: { choices: LOG_LEVELS },
    placeholder: '<level>',
    defaultText: 'info',
    description: 'Level of the JSON logs on stdout.',
  },
  {
    key: 'leaveTimeout',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '5s',
    description:
      'On SIGINT/SIGTERM, how long to wait for the graceful leave before stopping anyway.',
  },
  {
    key: 'probeInterval',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '(profile)',
    description: 'Membership: one member is probed per period (failure detection speed).',
  },
  {
    key: 'probeTimeout',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '(profile)',
    description: 'Membership: wait for a direct ack before asking others to probe.',
  },
  {
    key: 'deadAfter',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '(profile)',
    description:
      'A peer known only from relayed instances, never confirmed by membership, is hidden after this.',
  },
  {
    key: 'purgeAfter',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '(profile)',
    description: "How long after going down a dead or left peer's instances are dropped for good.",
  },
  {
    key: 'syncInterval',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '(profile)',
    description: 'Period of anti-entropy with one random peer (jittered).',
  },
  {
    key: 'tombstoneTtl',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '(profile)',
    description: 'How long a deregistration is remembered before it is garbage collected.',
  },
  {
    key: 'readyTimeout',
    type: 'duration',
    placeholder: '<duration>',
    defaultText: '(profile)',
    description: 'Longest wait for /ready when peers were found but sync does not finish.',
  },
]

/** `httpAddr` → `http-addr`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

/** `httpAddr` → `GRAPEVINE_HTTP_ADDR`. */
export function envName(key: string): string {
  return `GRAPEVINE_${flagName(key).replace(/-/g, '_').toUpperCase()}`
}

/** The flag that points at the config file, and its variable. */
export const CONFIG_FILE_FLAG = 'config'
export const CONFIG_FILE_ENV = 'GRAPEVINE_CONFIG'
