/**
 * Every error Grapevine throws on purpose. Each has a stable `code` so callers can match it
 * even when two copies of this package are installed (instanceof would fail there).
 */
export class GrapevineError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = new.target.name
    this.code = code
  }
}

/** Thrown when an instance, claim or option fails validation; `field` names the culprit. */
export class ValidationError extends GrapevineError {
  static readonly code = 'ERR_VALIDATION'
  readonly field: string
  readonly reason: string
  constructor(field: string, reason: string) {
    super(ValidationError.code, `invalid ${field}: ${reason}`)
    this.field = field
    this.reason = reason
  }
}

/** Thrown by `Watcher.next()` once the watcher has been stopped (go-kratos semantics). */
export class WatcherClosedError extends GrapevineError {
  static readonly code = 'ERR_WATCHER_CLOSED'
  constructor() {
    super(WatcherClosedError.code, 'watcher was stopped')
  }
}

/** Thrown when a call needs a running agent but `stop()` or `leave()` already ran. */
export class AgentStoppedError extends GrapevineError {
  static readonly code = 'ERR_AGENT_STOPPED'
  constructor() {
    super(AgentStoppedError.code, 'agent is stopped; create a new one to rejoin')
  }
}

/** Thrown by `deregister` for an id this node never registered (or already deregistered). */
export class NotFoundError extends GrapevineError {
  static readonly code = 'ERR_NOT_FOUND'
  readonly id: string
  constructor(id: string) {
    super(NotFoundError.code, `no instance with id "${id}" is registered on this node`)
    this.id = id
  }
}

/**
 * Thrown by `register` when this node already holds as many instances as peers accept from
 * one origin (`RegistryNodeInit.quota`): peers would drop what exceeds it.
 */
export class QuotaExceededError extends GrapevineError {
  static readonly code = 'ERR_QUOTA_EXCEEDED'
  readonly limit: number
  constructor(limit: number, what: string) {
    super(
      QuotaExceededError.code,
      `this node already holds ${limit} ${what}, the most peers accept from one node; deregister some or raise the quota on every node`,
    )
    this.limit = limit
  }
}
