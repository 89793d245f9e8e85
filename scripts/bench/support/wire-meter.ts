/**
 * Counts the TCP bytes of every socket this process opens or accepts, through Node's
 * `net.client.socket` / `net.server.socket` diagnostics channels: all of libp2p's traffic
 * (Noise, Yamux, gossipsub control and duplicates, identify, ping, sync), which
 * `agent.stats()` does not see (it counts Grapevine's own message payloads). Stdin/stdout
 * pipes are not TCP sockets and are not counted.
 */
import { subscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'

export interface WireMeter {
  /** Bytes read and written so far, and the number of open sockets. */
  totals(): { read: number; written: number; openSockets: number }
  /** wallNow-style time of the first TCP connect (client side) after `since`, if any. */
  firstConnectAfter(since: number): number | null
}

export function createWireMeter(clock: () => number): WireMeter {
  const live = new Set<Socket>()
  const connects: number[] = []
  let closedRead = 0
  let closedWritten = 0

  const track = (socket: Socket, client: boolean): void => {
    live.add(socket)
    if (client) socket.once('connect', () => connects.push(clock()))
    socket.once('close', () => {
      live.delete(socket)
      closedRead += socket.bytesRead
      closedWritten += socket.bytesWritten
    })
  }
  subscribe('net.client.socket', (message) => track((message as { socket: Socket }).socket, true))
  subscribe('net.server.socket', (message) => track((message as { socket: Socket }).socket, false))

  return {
    totals() {
      let read = closedRead
      let written = closedWritten
      let openSockets = 0
      for (const socket of live) {
        read += socket.bytesRead
        written += socket.bytesWritten
        if (!socket.destroyed) openSockets++
      }
      return { read, written, openSockets }
    },
    firstConnectAfter(since) {
      return connects.find((t) => t >= since) ?? null
    },
  }
}
