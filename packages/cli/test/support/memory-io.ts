import type { DestinationStream } from 'pino'
import type { CliIo } from '../../src/io.js'

/** A CliIo that records output and lets a test send signals. */
export interface MemoryIo extends CliIo {
  readonly out: () => string
  readonly err: () => string
  readonly logs: () => string
  /** Delivers SIGINT to every `onSignal` handler. */
  interrupt(): void
  /** Delivers SIGHUP to every `onReload` handler. */
  hangup(): void
  closeStdin(): void
  readonly exits: number[]
}

export function createMemoryIo({
  env = {},
  files = {},
  isTTY = false,
  now = new Date('2026-01-02T03:04:05'),
}: {
  env?: Record<string, string>
  files?: Record<string, string>
  isTTY?: boolean
  now?: Date
} = {}): MemoryIo {
  let out = ''
  let err = ''
  let logs = ''
  const signalHandlers = new Set<(signal: NodeJS.Signals) => void>()
  const stdinHandlers = new Set<() => void>()
  const reloadHandlers = new Set<() => void>()
  const exits: number[] = []
  const logStream: DestinationStream = {
    write(text: string) {
      logs += text
    },
  }
  return {
    stdout: {
      write(text: string) {
        out += text
      },
      isTTY,
    },
    stderr: {
      write(text: string) {
        err += text
      },
    },
    env,
    readFile(path) {
      const text = files[path]
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`)
      return text
    },
    listDir(path) {
      const prefix = path.endsWith('/') ? path : `${path}/`
      const names = Object.keys(files)
        .filter((file) => file.startsWith(prefix))
        .map((file) => file.slice(prefix.length))
        .filter((name) => !name.includes('/'))
      if (names.length === 0) throw new Error(`ENOENT: no such directory, scandir '${path}'`)
      return names
    },
    onReload(handler) {
      reloadHandlers.add(handler)
      return () => reloadHandlers.delete(handler)
    },
    onSignal(handler) {
      signalHandlers.add(handler)
      return () => signalHandlers.delete(handler)
    },
    onStdinClose(handler) {
      stdinHandlers.add(handler)
      return () => stdinHandlers.delete(handler)
    },
    now: () => now,
    logStream,
    exit(code) {
      exits.push(code)
    },
    out: () => out,
    err: () => err,
    logs: () => logs,
    interrupt() {
      for (const handler of [...signalHandlers]) handler('SIGINT')
    },
    hangup() {
      for (const handler of [...reloadHandlers]) handler()
    },
    closeStdin() {
      for (const handler of [...stdinHandlers]) handler()
    },
    exits,
  }
}
