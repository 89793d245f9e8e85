import type { AgentTimings } from '@grapevine/agent'
import { ValidationError } from '@grapevine/core'
import { parseDuration } from '../duration.js'
import { ConfigError } from '../errors.js'
import { parseHostPort, toMultiaddr } from './addresses.js'
import {
  type AgentConfig,
  DEFAULT_DNS_ADDR,
  DEFAULT_DNS_DOMAIN,
  DEFAULT_HTTP_ADDR,
  DEFAULT_LISTEN,
} from './agent-config.js'
import {
  CONFIG_FILE_ENV,
  CONFIG_FILE_FLAG,
  CONFIG_OPTIONS,
  type ConfigKey,
  type ConfigOption,
  envName,
  flagName,
  TIMING_KEYS,
  type TimingKey,
} from './config-options.js'

export type ConfigSource = 'flag' | 'env' | 'file' | 'default'

/** Where settings come from; injected so that resolution is a pure function in tests. */
export interface ConfigInputs {
  /** Commander's parsed options (camelCase keys; strings, string arrays or true). */
  flags: Readonly<Record<string, unknown>>
  env: Readonly<Record<string, string | undefined>>
  /** Reads the config file; only called when `--config` or GRAPEVINE_CONFIG names one. */
  readFile: (path: string) => string
}

export interface ResolvedConfig {
  config: AgentConfig
  /** Which source each setting came from, for the startup log. */
  sources: Record<ConfigKey, ConfigSource>
  configFile: string | undefined
}

const DEFAULTS: Omit<AgentConfig, 'timings'> = {
  dev: false,
  cluster: 'default',
  nodeName: undefined,
  listen: [DEFAULT_LISTEN],
  announce: [],
  bootstrap: [],
  mdns: true,
  dataDir: undefined,
  clusterKeyFile: undefined,
  profile: 'lan',
  httpAddr: DEFAULT_HTTP_ADDR,
  dnsAddr: DEFAULT_DNS_ADDR,
  dnsDomain: DEFAULT_DNS_DOMAIN,
  dnsTtl: 0,
  token: undefined,
  tokenExempt: [],
  configDir: undefined,
  checkUpdateInterval: 300_000,
  logLevel: 'info',
  leaveTimeout: 5000,
}

/**
 * What `--dev` changes, as Consul's `-dev` does: one agent on this machine, nothing on the
 * network, nothing on disk. They replace only defaults; any setting given explicitly wins.
 */
export const DEV_DEFAULTS: Partial<Omit<AgentConfig, 'timings'>> = {
  cluster: 'dev',
  listen: ['/ip4/127.0.0.1/tcp/0'],
  mdns: false,
  logLevel: 'warn',
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on'])
const FALSE_WORDS = new Set(['false', '0', 'no', 'off'])
/** An LDH label (RFC 1123): letters, digits and inner hyphens, at most 63. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const OFF_WORDS = new Set(['off', 'false', 'none'])

/**
 * Merges the agent's settings with precedence flags > environment (GRAPEVINE_*) > config file
 * (JSON, `--config`) > defaults, and checks every value. Throws `ConfigError` naming the
 * setting and where the bad value came from.
 */
export function resolveConfig(inputs: ConfigInputs): ResolvedConfig {
  const configFile = pickString(inputs.flags[CONFIG_FILE_FLAG]) ?? inputs.env[CONFIG_FILE_ENV]
  const file = configFile === undefined ? {} : readConfigFile(configFile, inputs.readFile)

  const values: Record<string, unknown> = { ...DEFAULTS }
  const timings: Partial<AgentTimings> = {}
  const sources = {} as Record<ConfigKey, ConfigSource>
  // `dev` is read first (CONFIG_OPTIONS starts with it) because it changes the other defaults.
  for (const option of CONFIG_OPTIONS) {
    const found = lookup(option, inputs, file)
    sources[option.key] = found?.source ?? 'default'
    if (found === undefined) continue
    const where =
      found.source === 'flag'
        ? `--${flagName(option.key)}`
        : found.source === 'env'
          ? envName(option.key)
          : `config file ${configFile}`
    const value = parseValue(option, found.raw, where)
    if (isTimingKey(option.key)) timings[option.key] = value as number
    else values[option.key] = value
    if (option.key === 'dev' && value === true) Object.assign(values, DEV_DEFAULTS)
  }
  return { config: { ...(values as Omit<AgentConfig, 'timings'>), timings }, sources, configFile }
}

/** Settings the client commands need: where the agent is and its token (flags > env > defaults). */
export function resolveClientConfig(
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): { httpAddr: string; token: string | undefined } {
  const addr = pickString(flags.httpAddr) ?? env[envName('httpAddr')] ?? DEFAULT_HTTP_ADDR
  const token = pickString(flags.token) ?? env[envName('token')]
  const where = pickString(flags.httpAddr) !== undefined ? '--http-addr' : envName('httpAddr')
  if (parseHostPort(addr) === undefined) {
    throw new ConfigError('httpAddr', where, `expected host:port, got "${addr}"`)
  }
  return { httpAddr: addr, token: token === '' ? undefined : token }
}

function isTimingKey(key: string): key is TimingKey {
  return (TIMING_KEYS as readonly string[]).includes(key)
}

function pickString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function lookup(
  option: ConfigOption,
  inputs: ConfigInputs,
  file: Readonly<Record<string, unknown>>,
): { raw: unknown; source: ConfigSource } | undefined {
  const flag = inputs.flags[option.key]
  if (flag !== undefined) return { raw: flag, source: 'flag' }
  const env = inputs.env[envName(option.key)]
  // An empty variable counts as unset, as in most shells' `VAR= command` idiom.
  if (env !== undefined && env !== '') return { raw: env, source: 'env' }
  if (file[option.key] !== undefined) return { raw: file[option.key], source: 'file' }
  return undefined
}

function readConfigFile(
  path: string,
  readFile: (path: string) => string,
): Readonly<Record<string, unknown>> {
  let text: string
  try {
    text = readFile(path)
  } catch (err) {
    throw new ConfigError('config', path, `cannot read it: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ConfigError('config', path, `not valid JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('config', path, 'must be a JSON object of settings')
  }
  const known = new Set<string>(CONFIG_OPTIONS.map((o) => o.key))
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) {
      throw new ConfigError(key, path, `unknown setting; known: ${[...known].join(', ')}`)
    }
  }
  return parsed as Record<string, unknown>
}

function parseValue(option: ConfigOption, raw: unknown, where: string): unknown {
  const fail = (reason: string): never => {
    throw new ConfigError(option.key, where, reason)
  }
  const type = option.type
  if (typeof type === 'object' && 'someOf' in type) {
    const items = toList(raw, fail)
    for (const item of items) {
      if (!type.someOf.includes(item)) {
        fail(`"${item}" is not one of ${type.someOf.join(', ')}`)
      }
    }
    return [...new Set(items)]
  }
  if (typeof type === 'object') {
    if (typeof raw !== 'string' || !type.choices.includes(raw)) {
      fail(`must be one of ${type.choices.join(', ')}, got ${JSON.stringify(raw)}`)
    }
    return raw
  }
  switch (type) {
    case 'string':
    case 'secret':
    case 'path':
      if (typeof raw !== 'string' || raw === '') fail('must be a non-empty string')
      return raw
    case 'boolean':
      // `--mdns` alone gives `true`; `--mdns=false`, env and file give words or booleans.
      if (typeof raw === 'boolean') return raw
      if (typeof raw === 'string' && TRUE_WORDS.has(raw.toLowerCase())) return true
      if (typeof raw === 'string' && FALSE_WORDS.has(raw.toLowerCase())) return false
      return fail(`must be true or false, got ${JSON.stringify(raw)}`)
    case 'duration':
      try {
        return parseDuration(raw, option.key)
      } catch (err) {
        return fail(err instanceof ValidationError ? err.reason : String(err))
      }
    case 'address':
      if (typeof raw !== 'string' || parseHostPort(raw) === undefined) {
        fail(`expected host:port such as 127.0.0.1:8510, got ${JSON.stringify(raw)}`)
      }
      return raw
    case 'domain': {
      const domain = typeof raw === 'string' ? raw.toLowerCase().replace(/^\.+|\.+$/g, '') : ''
      const labels = domain.split('.')
      if (domain === '' || domain.length > 200 || !labels.every((l) => DNS_LABEL.test(l))) {
        fail(`expected a DNS name such as grapevine or sd.example.com, got ${JSON.stringify(raw)}`)
      }
      return domain
    }
    case 'optional-address':
      if (typeof raw === 'string' && OFF_WORDS.has(raw.toLowerCase())) return undefined
      if (raw === false) return undefined
      if (typeof raw !== 'string' || parseHostPort(raw) === undefined) {
        fail(`expected host:port such as 127.0.0.1:8600, or off, got ${JSON.stringify(raw)}`)
      }
      return raw
    case 'multiaddrs':
      return toList(raw, fail).map(
        (item) =>
          toMultiaddr(item) ??
          fail(`"${item}" is neither a multiaddr (/ip4/…/tcp/…) nor host:port`),
      )
  }
}

/** Lists come as arrays (repeated flags, JSON) or comma-separated strings (env, one flag). */
function toList(raw: unknown, fail: (reason: string) => never): string[] {
  const items = Array.isArray(raw) ? raw : [raw]
  const out: string[] = []
  for (const item of items) {
    if (typeof item !== 'string') fail('must be a string or a list of strings')
    for (const part of (item as string).split(',')) if (part.trim() !== '') out.push(part.trim())
  }
  return out
}
