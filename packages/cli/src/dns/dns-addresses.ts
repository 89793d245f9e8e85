import { isIP } from 'node:net'
import { type Member, parseEndpoint, type ServiceInstance } from '@grapevine/core'

/** One place an instance listens, as DNS answers need it. */
export interface DnsEndpoint {
  /** An IP address, or a host name (SRV target only: no A/AAAA of ours can answer for it). */
  readonly host: string
  readonly port: number
  /** 4, 6, or 0 for a host name. */
  readonly family: 0 | 4 | 6
}

const endpointCache = new WeakMap<ServiceInstance, readonly DnsEndpoint[]>()

/**
 * The endpoints of an instance, parsed once: instances are frozen and shared by every query,
 * so a WeakMap on the object is a cache that can never be stale and dies with the instance.
 * Endpoints that do not parse (the registry validated them; this is belt and braces) are left
 * out.
 */
export function instanceEndpoints(instance: ServiceInstance): readonly DnsEndpoint[] {
  let endpoints = endpointCache.get(instance)
  if (endpoints === undefined) {
    const list: DnsEndpoint[] = []
    for (const url of instance.endpoints) {
      try {
        const { host, port } = parseEndpoint(url)
        const family = isIP(host)
        list.push({ host, port, family: family === 4 ? 4 : family === 6 ? 6 : 0 })
      } catch {
        // unparseable endpoint: nothing to answer with
      }
    }
    endpoints = Object.freeze(list)
    endpointCache.set(instance, endpoints)
  }
  return endpoints
}

/** The IP addresses in a member's multiaddrs (`/ip4/10.0.0.5/tcp/7946/p2p/…`), unspecified ones left out. */
export function memberAddresses(member: Member): string[] {
  const out = new Set<string>()
  for (const address of member.addresses) {
    const match = /^\/ip([46])\/([^/]+)/.exec(address)
    if (match === null) continue
    const ip = match[2]!
    if (ip === '0.0.0.0' || ip === '::' || isIP(ip) === 0) continue
    out.add(ip)
  }
  return [...out]
}

/**
 * An IP address as one DNS label, in hex as Consul spells its `.addr.` names: `0a000005` for
 * 10.0.0.5, 32 hex digits for IPv6.
 */
export function addressLabel(ip: string): string {
  if (isIP(ip) === 4) {
    return ip
      .split('.')
      .map((part) => Number(part).toString(16).padStart(2, '0'))
      .join('')
  }
  return expandIpv6(ip)
}

/** The IP address an `.addr.` label spells, or undefined when it spells none. */
export function parseAddressLabel(label: string): string | undefined {
  const hex = label.toLowerCase()
  if (/^[0-9a-f]{8}$/.test(hex)) {
    return [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join('.')
  }
  if (/^[0-9a-f]{32}$/.test(hex)) {
    const groups: string[] = []
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4).replace(/^0+(?=.)/, ''))
    return groups.join(':')
  }
  return undefined
}

/** `fe80::1` → 32 hex digits (an embedded IPv4 tail such as `::ffff:10.0.0.5` is two groups). */
function expandIpv6(ip: string): string {
  const bare = ip.split('%')[0]!
  const gap = bare.indexOf('::')
  const headText = gap < 0 ? bare : bare.slice(0, gap)
  const tailText = gap < 0 ? undefined : bare.slice(gap + 2)
  const groups = (text: string | undefined): string[] =>
    text === undefined || text === ''
      ? []
      : text.split(':').flatMap((group) => {
          if (!group.includes('.')) return [group]
          const v4 = addressLabel(group)
          return [v4.slice(0, 4), v4.slice(4)]
        })
  const head = groups(headText)
  const tail = groups(tailText)
  const fill =
    tailText === undefined
      ? []
      : Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0')
  return [...head, ...fill, ...tail].map((group) => group.padStart(4, '0')).join('')
}
