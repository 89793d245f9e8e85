import { GrapevineError } from '@grapevine/core'

/**
 * Thrown at start when a front end cannot bind its address (usually: another agent, or a
 * Consul agent, runs there). Nothing has joined the cluster yet when it is thrown.
 */
export class ListenError extends GrapevineError {
  static readonly code = 'ERR_LISTEN'
  readonly address: string
  constructor(what: string, address: string, reason: string, flag: string) {
    super(
      ListenError.code,
      `cannot serve the ${what} on ${address}: ${reason}. Is another agent running there? Choose another address with ${flag}`,
    )
    this.address = address
  }

  static from(what: string, address: string, err: NodeJS.ErrnoException, flag: string) {
    const reason =
      err.code === 'EADDRINUSE'
        ? 'the address is in use'
        : err.code === 'EACCES'
          ? 'permission denied (ports below 1024 need root)'
          : err.message
    return new ListenError(what, address, reason, flag)
  }
}
