import { isIP } from 'node:net'

/** A `host:port` split, with IPv6 brackets removed from `host`. */
export interface HostPort {
  readonly host: string
  readonly port: number
}

/**
 * Parses `host:port` (`[::1]:8510` for IPv6). Returns undefined when it is not one, so callers
 * can word their own error. Port 0 is allowed: it means "any free port" when listening.
 */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim())
  if (match === null) return undefined
  const host = match[1] ?? match[2]!
  const port = Number(match[3])
  if (port > 65_535) return undefined
  if (match[1] !== undefined && isIP(host) !== 6) return undefined
  return { host, port }
}

/** `host:port` as a URL authority (IPv6 in brackets). */
export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * Accepts a multiaddr as is, or turns the `host:port` shorthand into a TCP multiaddr
 * (`/ip4`, `/ip6` or `/dns` by the host's form), so users need not learn multiaddr syntax to
 * point at a peer. Returns undefined when it is neither.
 */
export function toMultiaddr(text: string): string | undefined {
  const trimmed = text.trim()
  if (trimmed.startsWith('/')) return /^(\/[^/\s]+)+$/.test(trimmed) ? trimmed : undefined
  const hostPort = parseHostPort(trimmed)
  if (hostPort === undefined) return undefined
  const family = isIP(hostPort.host)
  const proto = family === 4 ? 'ip4' : family === 6 ? 'ip6' : 'dns'
  return `/${proto}/${hostPort.host}/tcp/${hostPort.port}`
}
