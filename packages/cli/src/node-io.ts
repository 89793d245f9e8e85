import { readdirSync, readFileSync, writeSync } from 'node:fs'
import type { CliIo } from './io.js'

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/** The real process: stdout, stderr, environment, signals and the file system. */
export function createNodeIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readFile: (path) => readFileSync(path, 'utf8'),
    listDir: (path) => readdirSync(path),
    onReload(handler) {
      process.on('SIGHUP', handler)
      return () => process.off('SIGHUP', handler)
    },
    onSignal(handler) {
      // A reader that went away (`grapevine demo | head`) is treated like Ctrl-C, so what the
      // command started is still cleaned up; the listener also keeps EPIPE from crashing it.
      const onStdoutError = (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') handler('SIGPIPE')
      }
      for (const signal of SIGNALS) process.on(signal, handler)
      process.stdout.on('error', onStdoutError)
      return () => {
        for (const signal of SIGNALS) process.off(signal, handler)
        process.stdout.off('error', onStdoutError)
      }
    },
    onStdinClose(handler) {
      process.stdin.on('end', handler)
      process.stdin.on('close', handler)
      process.stdin.resume()
      return () => {
        process.stdin.off('end', handler)
        process.stdin.off('close', handler)
        process.stdin.pause()
      }
    },
    now: () => new Date(),
    // Synchronous like pino.destination({sync: true}), so no log line is lost at exit; written
    // by hand so that client commands need not load pino.
    logStream: { write: (line: string) => void writeSync(1, line) },
    exit: (code) => process.exit(code),
  }
}
