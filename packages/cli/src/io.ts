import type { DestinationStream } from 'pino'

/** A writable the CLI prints to; `isTTY` decides between redrawing and appending output. */
export interface Output {
  write(text: string): unknown
  readonly isTTY?: boolean
}

/**
 * Everything the CLI touches outside itself, injected so that every command can be tested
 * in-process: output streams, environment, signals, files and the clock.
 */
export interface CliIo {
  readonly stdout: Output
  readonly stderr: Output
  readonly env: Readonly<Record<string, string | undefined>>
  readFile(path: string): string
  /** The names of the entries of a directory (`--config-dir`). */
  listDir(path: string): string[]
  /** Calls `handler` on SIGHUP (reload the config dir); returns an unsubscribe function. */
  onReload(handler: () => void): () => void
  /** Calls `handler` on SIGINT or SIGTERM; returns an unsubscribe function. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void
  /** Calls `handler` when stdin closes (the parent of a demo node went away). */
  onStdinClose(handler: () => void): () => void
  now(): Date
  /** Where the daemon's JSON logs go (stdout, written synchronously so none is lost at exit). */
  readonly logStream: DestinationStream
  /** Ends the process now; only for a second Ctrl-C during a slow shutdown. */
  exit(code: number): void
}
