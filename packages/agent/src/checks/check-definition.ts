import type { Duration, HealthStatus } from '@grapevine/core'

/**
 * Options every kind of check shares. The thresholds follow Consul's
 * `success_before_passing` / `failures_before_critical`: they count consecutive results,
 * so one odd result does not flip an instance back and forth (no flapping).
 */
export interface CheckOptionsInput {
  /**
   * Identifies the check within its instance: `ttlUpdate` and the HTTP API name it. Same
   * charset as instance ids. @default the `name`, else `<kind>-<index>` (e.g. `ttl-0`)
   */
  id?: string
  /** Shown in `checks()` and the dashboard. @default a summary such as `HTTP GET <url>` */
  name?: string
  /**
   * Consecutive passing results needed before the check turns `passing`. Consul's default
   * is 0, which Consul treats exactly like 1 (the first pass counts); both are accepted.
   * @default 1
   */
  successesBeforePassing?: number
  /**
   * Consecutive non-passing results (warning or critical) needed before the check takes that
   * status; it then takes the status of the latest result. 0 means the same as 1, as in Consul.
   * @default 1
   */
  failuresBeforeCritical?: number
  /**
   * Status before the first result. `critical` keeps a new instance out of queries until it
   * has proven it works (Consul's default for checks registered with a service).
   * @default 'critical'
   */
  initialStatus?: HealthStatus
  /**
   * Deregister the whole instance once this check has been critical this long without a
   * break, counted from registration when it starts critical. Consul's
   * `deregister_critical_service_after`, without Consul's one-minute minimum.
   * @default never
   */
  deregisterCriticalAfter?: Duration
}

/** GET (or `method`) `url` every `interval`: 2xx passing, 429 warning, anything else critical. */
export interface HttpCheckInput extends CheckOptionsInput {
  kind: 'http'
  /** An `http:` or `https:` URL. */
  url: string
  /** @default 'GET' */
  method?: string
  /** Extra request headers, such as `Authorization`. */
  headers?: Record<string, string>
  interval: Duration
  /**
   * Longest wait for the response; a slower answer counts as critical. It may exceed
   * `interval`: runs of one check never overlap, the next one just starts later.
   * @default the interval, at most 10 s (Consul's default timeout)
   */
  timeout?: Duration
}

/** Open a TCP connection to `address` every `interval`: connected is passing, else critical. */
export interface TcpCheckInput extends CheckOptionsInput {
  kind: 'tcp'
  /** `host:port`, with IPv6 hosts in brackets: `[::1]:5432`. */
  address: string
  interval: Duration
  /** @default the interval, at most 10 s */
  timeout?: Duration
}

/**
 * The application reports its own health with `pass` / `warn` / `fail` at least once every
 * `ttl`; when a report is overdue the check turns critical.
 */
export interface TtlCheckInput extends CheckOptionsInput {
  kind: 'ttl'
  ttl: Duration
}

/** A check as a user writes it (registration, config file, HTTP API). */
export type CheckDefinitionInput = HttpCheckInput | TcpCheckInput | TtlCheckInput

export type CheckKind = CheckDefinitionInput['kind']
export const CHECK_KINDS: readonly CheckKind[] = ['http', 'tcp', 'ttl']

/** Shared options after validation: defaults filled in, durations in milliseconds. */
export interface CheckOptions {
  readonly id: string
  readonly name: string
  /** At least 1. */
  readonly successesBeforePassing: number
  /** At least 1. */
  readonly failuresBeforeCritical: number
  readonly initialStatus: HealthStatus
  /** Milliseconds; undefined means never. */
  readonly deregisterCriticalAfter: number | undefined
}

export interface HttpCheckDefinition extends CheckOptions {
  readonly kind: 'http'
  /** Normalized by the URL parser. */
  readonly url: string
  /** Upper case. */
  readonly method: string
  readonly headers: Readonly<Record<string, string>>
  readonly interval: number
  readonly timeout: number
}

export interface TcpCheckDefinition extends CheckOptions {
  readonly kind: 'tcp'
  readonly address: string
  /** Without IPv6 brackets, ready for `net.connect`. */
  readonly host: string
  readonly port: number
  readonly interval: number
  readonly timeout: number
}

export interface TtlCheckDefinition extends CheckOptions {
  readonly kind: 'ttl'
  readonly ttl: number
}

/** A validated check, as `validateChecks` returns it and the runner runs it. */
export type CheckDefinition = HttpCheckDefinition | TcpCheckDefinition | TtlCheckDefinition

/** Checks the agent itself probes on an interval (as opposed to TTL checks the app feeds). */
export type ProbedCheckDefinition = HttpCheckDefinition | TcpCheckDefinition

/** Named limits on check definitions and what they store. */
export const CHECK_LIMITS = {
  /** Checks per instance. */
  checks: 16,
  nameLength: 128,
  urlLength: 2048,
  headers: 32,
  headerValueLength: 1024,
  /** Characters of output kept per check (Consul keeps 4 KiB). */
  outputLength: 4096,
} as const

/** Defaults of the shared options; see `CheckOptionsInput` for why each is what it is. */
export const CHECK_DEFAULTS = {
  successesBeforePassing: 1,
  failuresBeforeCritical: 1,
  initialStatus: 'critical',
  /** Upper bound of the default timeout of HTTP and TCP checks (Consul's). */
  maxDefaultTimeout: 10_000,
  /**
   * Shortest interval of HTTP and TCP checks, and shortest TTL: Consul's 1 s. Without a floor,
   * 16 checks at 1 ms cost 0.86 of a core. Tests lower it through `minCheckInterval`.
   */
  minInterval: 1_000,
} as const satisfies Record<string, HealthStatus | number>

/**
 * The longest delay a Node timer honours: `setTimeout` fires at once for anything above
 * 2^31 − 1 ms (about 24.8 days), so a longer interval would turn into a busy loop.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1
