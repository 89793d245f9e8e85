import pino, { type DestinationStream, type Logger } from 'pino'
import type { LogLevel } from '../config/agent-config.js'

/**
 * The daemon's structured logger: one JSON object per line with ISO timestamps, so logs can be
 * shipped as they are; pipe through `pino-pretty` to read them.
 */
export function createLogger(level: LogLevel, destination: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  )
}
