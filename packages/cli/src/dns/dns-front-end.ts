import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import {
  createServer as createTcpServer,
  isIP,
  type Socket,
  type Server as TcpServer,
} from 'node:net'
import { formatHostPort, parseHostPort } from '../config/addresses.js'
import type { DaemonContext, FrontEnd } from '../daemon/front-end.js'
import { ListenError } from '../daemon/listen-error.js'
import { createZone } from './dns-names.js'
import { createDnsResponder, type DnsResponder } from './dns-responder.js'
import { createDnsView } from './dns-view.js'
import { answerDnsMessage, createDnsCounters, type DnsCounters } from './dns-wire.js'

export interface DnsFrontEndInit {
  /** `host:port`; port 0 picks a free port (the same one for UDP and TCP). */
  address: string
  /** The zone, e.g. `grapevine`. */
  domain: string
  /** TTL of answers in milliseconds; sent in whole seconds. */
  ttlMs: number
  /** @default Math.random */
  random?: () => number
}

export interface DnsFrontEnd extends FrontEnd {
  /** Counters since start: queries, answers by rcode, truncations, drops. */
  readonly counters: Readonly<DnsCounters>
  /** `host:port` once listening. */
  readonly address: string | undefined
}

/** A TCP connection that sends nothing for this long is closed (RFC 7766 suggests seconds). */
const TCP_IDLE_MS = 10_000
/** Open TCP connections at once; more are closed at accept, so no client can exhaust fds. */
const TCP_MAX_CONNECTIONS = 256
/** When port 0 is asked, how many times to look for a port free on both UDP and TCP. */
const FREE_PORT_ATTEMPTS = 5

/**
 * The DNS interface: UDP and TCP on one address, answering for one zone from the shared
 * context. Bound in `listen` (before the agent joins), answering SERVFAIL until `start`.
 */
export function createDnsFrontEnd(init: DnsFrontEndInit): DnsFrontEnd {
  const counters = createDnsCounters()
  let responder: DnsResponder | undefined
  let closeView: (() => void) | undefined
  let udp: UdpSocket | undefined
  let tcp: TcpServer | undefined
  let bound: string | undefined
  const connections = new Set<Socket>()
  let stopped: Promise<void> | undefined

  const handle = (message: Buffer, transport: 'udp' | 'tcp') =>
    answerDnsMessage(message, transport, responder, counters)

  const serveTcp = (socket: Socket) => {
    if (connections.size >= TCP_MAX_CONNECTIONS) {
      socket.destroy()
      return
    }
    connections.add(socket)
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy())
    socket.on('error', () => socket.destroy())
    socket.on('close', () => connections.delete(socket))
    // Messages are framed by a two-byte length (RFC 1035 §4.2.2); several may be pipelined.
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0)
        if (length === 0) {
          socket.destroy()
          return
        }
        if (pending.length < 2 + length) break
        const message = pending.subarray(2, 2 + length)
        pending = pending.subarray(2 + length)
        const reply = handle(message, 'tcp')
        if (reply === undefined) continue
        const prefix = Buffer.alloc(2)
        prefix.writeUInt16BE(reply.length)
        socket.write(Buffer.concat([prefix, reply]))
      }
    })
  }

  const bindUdp = (host: string, port: number) =>
    new Promise<UdpSocket>((resolve, reject) => {
      const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' })
      socket.once('error', reject)
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.removeListener('error', reject)
        resolve(socket)
      })
    })
  const bindTcp = (host: string, port: number) =>
    new Promise<TcpServer>((resolve, reject) => {
      const server = createTcpServer(serveTcp)
      server.once('error', reject)
      server.listen({ host, port, exclusive: true }, () => {
        server.removeListener('error', reject)
        resolve(server)
      })
    })
  const closeUdp = (socket: UdpSocket) =>
    new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve())
      } catch {
        resolve()
      }
    })

  return {
    name: 'dns',
    counters,
    get address() {
      return bound
    },
    async listen() {
      const hostPort = parseHostPort(init.address)
      if (hostPort === undefined) {
        throw new ListenError('DNS interface', init.address, 'expected host:port', '--dns-addr')
      }
      const { host } = hostPort
      const fail = (err: unknown) =>
        ListenError.from('DNS interface', init.address, err as NodeJS.ErrnoException, '--dns-addr')
      const attempts = hostPort.port === 0 ? FREE_PORT_ATTEMPTS : 1
      for (let attempt = 1; ; attempt++) {
        let socket: UdpSocket
        try {
          socket = await bindUdp(host, hostPort.port)
        } catch (err) {
          throw fail(err)
        }
        const port = socket.address().port
        try {
          tcp = await bindTcp(host, port)
          udp = socket
          bound = formatHostPort({ host, port })
          break
        } catch (err) {
          await closeUdp(socket)
          // With port 0 the UDP port was free but its TCP twin taken: try another.
          if (attempt >= attempts || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
            throw fail(err)
          }
        }
      }
      udp.on('error', () => {})
      udp.on('message', (message, remote) => {
        const reply = handle(message, 'udp')
        if (reply !== undefined) udp?.send(reply, remote.port, remote.address, () => {})
      })
      return bound
    },
    async start(ctx: DaemonContext) {
      const view = createDnsView(ctx)
      closeView = view.close
      const host = parseHostPort(bound ?? init.address)?.host ?? '127.0.0.1'
      responder = createDnsResponder({
        view,
        zone: createZone(init.domain, ctx.cluster),
        ttl: Math.floor(init.ttlMs / 1000),
        nameserver: host === '0.0.0.0' || host === '::' || isIP(host) === 0 ? '127.0.0.1' : host,
        random: init.random ?? Math.random,
        now: Date.now,
      })
    },
    stop() {
      stopped ??= (async () => {
        responder = undefined
        closeView?.()
        for (const socket of connections) socket.destroy()
        await Promise.all([
          udp === undefined ? undefined : closeUdp(udp),
          tcp === undefined
            ? undefined
            : new Promise<void>((resolve) => tcp!.close(() => resolve())),
        ])
      })()
      return stopped
    },
  }
}
