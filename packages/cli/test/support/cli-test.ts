import { beforeEach } from 'vitest'
import { runCli } from '../../src/program.js'
import { seedInstances, type TestServer, useTestServer } from './api-server.js'
import { createMemoryIo, type MemoryIo } from './memory-io.js'

/** The CLI against a test server: see `useCliTest`. */
export interface CliTest {
  /** This test's server (see `useTestServer`). */
  readonly server: TestServer
  /** What `run` reads from and writes to; a test may replace it (another env, a terminal). */
  io: MemoryIo
  /** Runs `grapevine <argv>` with `io`; resolves to the exit code. */
  run(...argv: string[]): Promise<number>
  /** Registers web-1, web-2 and db-1 on the server (see `seedInstances`). */
  seed(): Promise<void>
}

/**
 * Starts a test server before each test, with a fresh `MemoryIo` whose GRAPEVINE_HTTP_ADDR
 * points at it, and closes the server after.
 */
export function useCliTest(): CliTest {
  const server = useTestServer()
  let io: MemoryIo | undefined
  beforeEach(() => {
    io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: server.addr } })
  })
  const cli: CliTest = {
    server,
    get io() {
      if (io === undefined) throw new Error('useCliTest: no io outside a test')
      return io
    },
    set io(next) {
      io = next
    },
    run: (...argv) => runCli(argv, cli.io),
    seed: () => seedInstances(server.agent),
  }
  return cli
}
