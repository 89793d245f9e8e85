import { connect } from 'node:net'

/**
 * Whether anything listens on a member's TCP port, found by opening a bare TCP connection
 * and closing it at once (no libp2p upgrade). A killed process's port refuses within a
 * millisecond; a live one accepts, even when its process is stopped (the kernel completes the
 * handshake from the listen backlog), so `open` says nothing about the member's health.
 *
 * Membership asks this when a connection to a member closes: `refused` fails the probe at
 * once, which is how a kill -9 is noticed in a round trip. Redialing libp2p for that probe,
 * as before, reopened every connection the peer keeper had just closed on purpose, at the
 * price of a Noise handshake and an identify each time.
 */
export type PortState = 'open' | 'refused' | 'unknown'

export function checkPort(
  address: { readonly host: string; readonly port: number },
  timeoutMs: number,
): Promise<PortState> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port })
    const done = (state: PortState): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(state)
    }
    const timer = setTimeout(() => done('unknown'), timeoutMs)
    socket.once('connect', () => done('open'))
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'refused' : 'unknown'),
    )
  })
}
