/**
 * Counts the TCP bytes of every socket this process opens or accepts, through Node's
 * `net.client.socket` / `net.server.socket` diagnostics channels: all of libp2p's traffic
 * (Noise, Yamux, gossipsub control and duplicates, identify, ping, sync), which
 * `agent.stats()` does not see (it counts Grapevine's own message payloads). Stdin/stdout
 * pipes are not TCP sockets and are not counted. UDP datagrams (membership's probes) have no
 * diagnostics channel: `dgram.Socket`'s `send` and `message` events are counted instead
 * (payload bytes, without the IP and UDP headers).
 */

import { Socket as DatagramSocket } from 'node:dgram'
import { subscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'

export interface WireMeter {
  /** TCP and UDP bytes read and written so far, and the number of open TCP sockets. */
  totals(): WireTotals
  /** wallNow-style time of the first TCP connect (client side) after `since`, if any. */
  firstConnectAfter(since: number): number | null
}

export interface WireTotals {
  read: number
  written: number
  udpRead: number
  udpWritten: number
  openSockets: number
}

type Sendable = string | NodeJS.ArrayBufferView | readonly (string | NodeJS.ArrayBufferView)[]
const sizeOf = (data: Sendable): number =>
  typeof data === 'string'
    ? Buffer.byteLength(data)
    : Array.isArray(data)
      ? data.reduce((n: number, part: Sendable) => n + sizeOf(part), 0)
      : (data as NodeJS.ArrayBufferView).byteLength

function isBound(socket: DatagramSocket): boolean {
  try {
    socket.address()
    return true
  } catch {
    return false
  }
}

export function createWireMeter(clock: () => number): WireMeter {
  const udp = { read: 0, written: 0 }
  const proto = DatagramSocket.prototype as unknown as {
    send: (this: DatagramSocket, data: Sendable, ...rest: unknown[]) => void
    emit: (this: DatagramSocket, event: string | symbol, ...args: unknown[]) => boolean
  }
  const send = proto.send
  proto.send = function (data, ...rest) {
    // An unbound socket binds first and calls `send` again once bound: count that call.
    if (isBound(this)) udp.written += sizeOf(data)
    return send.call(this, data, ...rest)
  }
  const emit = proto.emit
  proto.emit = function (event, ...args) {
    if (event === 'message' && args[0] instanceof Uint8Array) udp.read += args[0].byteLength
    return emit.call(this, event, ...args)
  }

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
      return { read, written, udpRead: udp.read, udpWritten: udp.written, openSockets }
    },
    firstConnectAfter(since) {
      return connects.find((t) => t >= since) ?? null
    },
  }
}
