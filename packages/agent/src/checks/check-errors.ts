import { GrapevineError } from '@grapevine/core'

/** Thrown by `ttlUpdate` for a check id the instance does not have. */
export class CheckNotFoundError extends GrapevineError {
  static readonly code = 'ERR_CHECK_NOT_FOUND'
  readonly instanceId: string
  readonly checkId: string
  constructor(instanceId: string, checkId: string) {
    super(
      CheckNotFoundError.code,
      `instance "${instanceId}" has no check "${checkId}"; \`grapevine instances\` (GET /v1/instances) lists its check ids`,
    )
    this.instanceId = instanceId
    this.checkId = checkId
  }
}

/** Thrown by `ttlUpdate` for an HTTP or TCP check: only TTL checks take reports from the app. */
export class NotTtlCheckError extends GrapevineError {
  static readonly code = 'ERR_NOT_TTL_CHECK'
  readonly instanceId: string
  readonly checkId: string
  constructor(instanceId: string, checkId: string, kind: string) {
    super(
      NotTtlCheckError.code,
      `check "${checkId}" of instance "${instanceId}" is a ${kind} check, which the agent runs ` +
        'itself; only ttl checks accept pass / warn / fail',
    )
    this.instanceId = instanceId
    this.checkId = checkId
  }
}
