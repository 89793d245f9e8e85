import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TestHttpServer {
  readonly name: string
  readonly port: number
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string
  /** Requests served. */
  hits: number
  /** Closes the listener and every connection: later connections are refused. */
  kill(): Promise<void>
}

/** A real HTTP server on 127.0.0.1 that answers its name (or runs `handler`). */
export async function startHttpServer(
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestHttpServer> {
  const state = { hits: 0 }
  const server = createServer((req, res) => {
    state.hits++
    if (handler) return handler(req, res)
    res.setHeader('content-type', 'text/plain')
    res.end(name)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  let killed: Promise<void> | undefined
  return {
    name,
    port,
    endpoint: `http://127.0.0.1:${port}`,
    get hits() {
      return state.hits
    },
    set hits(value) {
      state.hits = value
    },
    kill() {
      killed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return killed
    },
  }
}

/** A port on 127.0.0.1 that refuses connections (a server that was there and is gone). */
export async function refusedPort(): Promise<number> {
  const server = await startHttpServer('gone')
  await server.kill()
  return server.port
}
