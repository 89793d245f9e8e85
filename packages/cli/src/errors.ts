import { GrapevineError } from '@grapevine/core'

/** Thrown when a config file, flag or environment variable has a bad value; `key` names it. */
export class ConfigError extends GrapevineError {
  static readonly code = 'ERR_CONFIG'
  readonly key: string
  constructor(key: string, source: string, reason: string) {
    super(ConfigError.code, `invalid ${key} (from ${source}): ${reason}`)
    this.key = key
  }
}

/** Thrown by client commands when nothing answers at the agent's HTTP address. */
export class AgentUnreachableError extends GrapevineError {
  static readonly code = 'ERR_AGENT_UNREACHABLE'
  readonly url: string
  constructor(url: string) {
    super(AgentUnreachableError.code, `no agent at ${url}: start one with \`grapevine agent\``)
    this.url = url
  }
}

/**
 * Thrown by the HTTP client when the agent answers with an error body
 * (`{error: {code, message, field?}}`); `status` is the HTTP status.
 */
export class ApiError extends GrapevineError {
  static readonly code = 'ERR_API'
  readonly status: number
  readonly apiCode: string
  readonly field: string | undefined
  constructor(status: number, apiCode: string, message: string, field?: string) {
    super(ApiError.code, message)
    this.status = status
    this.apiCode = apiCode
    this.field = field
  }
}

/** Thrown by the HTTP API when a bearer token is configured and the request lacks it. */
export class UnauthorizedError extends GrapevineError {
  static readonly code = 'ERR_UNAUTHORIZED'
  constructor() {
    super(
      UnauthorizedError.code,
      'missing or wrong bearer token: send `Authorization: Bearer <token>` (--token / GRAPEVINE_TOKEN)',
    )
  }
}

/** Thrown by the HTTP API for a route the agent's implementation does not support. */
export class NotSupportedError extends GrapevineError {
  static readonly code = 'ERR_NOT_SUPPORTED'
  constructor(what: string) {
    super(NotSupportedError.code, `${what} is not supported by this agent`)
  }
}

/** Thrown by `grapevine watch` when the agent ends the stream (it stopped or restarted). */
export class StreamClosedError extends GrapevineError {
  static readonly code = 'ERR_STREAM_CLOSED'
  constructor(url: string) {
    super(StreamClosedError.code, `the agent at ${url} closed the watch stream (did it stop?)`)
  }
}
