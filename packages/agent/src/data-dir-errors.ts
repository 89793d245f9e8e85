import { GrapevineError } from '@grapevine/core'

/**
 * Thrown at start when a file of the data dir cannot be read as what it should hold (a
 * truncated copy, a hand edit, a disk fault). The agent does not start: running with part of
 * its state would announce a registry that differs from what it stored. `file` is the path.
 */
export class DataDirCorruptError extends GrapevineError {
  static readonly code = 'ERR_DATA_DIR_CORRUPT'
  readonly file: string
  readonly reason: string
  constructor(file: string, reason: string) {
    super(
      DataDirCorruptError.code,
      `data dir file ${file} is corrupt: ${reason}. Restore it from a backup, or move it away to start without it`,
    )
    this.file = file
    this.reason = reason
  }
}

/**
 * Thrown by a write (register, deregister) when its change could not be saved to the data dir.
 * Nothing happened: the change was not applied, published or acknowledged.
 */
export class DataDirWriteError extends GrapevineError {
  static readonly code = 'ERR_DATA_DIR_WRITE'
  readonly file: string
  constructor(file: string, cause: unknown) {
    super(
      DataDirWriteError.code,
      `could not save ${file} (${cause instanceof Error ? cause.message : String(cause)}); the change was not made`,
    )
    this.file = file
    this.cause = cause
  }
}
