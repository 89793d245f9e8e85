import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net'

/** A real HTTP server on 127.0.0.1, on a port the OS picks. */
export async function startHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // fetch keeps connections alive; without this, close() would wait for them.
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A real TCP server on 127.0.0.1 that accepts and drops connections. */
export async function startTcpServer(port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const server: TcpServer = createTcpServer((socket) => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A port nothing listens on (a moment ago something did, so the OS will refuse). */
export async function closedPort(): Promise<number> {
  const server = await startTcpServer()
  await server.close()
  return server.port
}
