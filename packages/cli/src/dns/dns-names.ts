/**
 * The names the DNS interface answers, under one zone (`grapevine` by default):
 *
 * - `NAME.service.grapevine.`: the healthy instances of service NAME
 * - `TAG.NAME.service.grapevine.`: only those carrying TAG
 * - `_NAME._TAG.service.grapevine.`: the same, RFC 2782 style; `_tcp` (and `_udp`) mean no tag
 *   filter, as in Consul, so `_web._tcp.service.grapevine.` is every instance of web
 * - `NODE.node.grapevine.`: a cluster member, by node name or peer id
 * - `HEX.addr.grapevine.`: an address spelled in hex, the targets of SRV answers (Consul's form)
 * - `grapevine.` itself (SOA, NS) and `ns.grapevine.`, the name server the SOA names
 *
 * As in Consul, one more label between the kind and the zone may name the datacenter; here it
 * must be the cluster name (`web.service.prod.grapevine.`). Matching is case-insensitive, as
 * DNS is; names hold the case of the question, to be looked up case-insensitively later.
 */
export type DnsTarget =
  | { readonly kind: 'apex' }
  | { readonly kind: 'nameserver' }
  | { readonly kind: 'service'; readonly service: string; readonly tag: string | undefined }
  | { readonly kind: 'node'; readonly node: string }
  | { readonly kind: 'addr'; readonly address: string }
  /** Inside the zone, but no name of any kind: NXDOMAIN. */
  | { readonly kind: 'none' }

/** Tags of RFC 2782 names that stand for "any protocol", not for a tag filter. */
const PROTOCOL_LABELS = new Set(['tcp', 'udp'])

/**
 * Where a question's name points, or undefined when it is outside the zone (REFUSED: this
 * agent is authoritative for its zone only and does not recurse).
 */
export function parseQueryName(name: string, zone: DnsZone): DnsTarget | undefined {
  const labels = splitName(name)
  const zoneLabels = zone.labels
  if (labels.length < zoneLabels.length) return undefined
  const tail = labels.slice(labels.length - zoneLabels.length)
  if (!tail.every((label, i) => label.toLowerCase() === zoneLabels[i])) return undefined
  let rest = labels.slice(0, labels.length - zoneLabels.length)
  if (rest.length === 0) return { kind: 'apex' }
  if (rest.length === 1 && rest[0]!.toLowerCase() === 'ns') return { kind: 'nameserver' }
  // An optional datacenter label right above the zone: it must be this cluster.
  const kindAt = rest.findLastIndex((label) => KINDS.has(label.toLowerCase()))
  if (kindAt < 0) return { kind: 'none' }
  const after = rest.slice(kindAt + 1)
  if (after.length > 1) return { kind: 'none' }
  if (after.length === 1 && after[0]!.toLowerCase() !== zone.datacenter) return { kind: 'none' }
  const kind = rest[kindAt]!.toLowerCase()
  rest = rest.slice(0, kindAt)
  switch (kind) {
    case 'service':
      return serviceTarget(rest)
    case 'node':
      return rest.length === 1 ? { kind: 'node', node: rest[0]! } : { kind: 'none' }
    default:
      return rest.length === 1 ? { kind: 'addr', address: rest[0]! } : { kind: 'none' }
  }
}

const KINDS = new Set(['service', 'node', 'addr'])

function serviceTarget(labels: readonly string[]): DnsTarget {
  if (labels.length === 1) {
    const service = labels[0]!
    return service.startsWith('_') ? { kind: 'none' } : { kind: 'service', service, tag: undefined }
  }
  if (labels.length !== 2) return { kind: 'none' }
  const [first, second] = labels as [string, string]
  if (first.startsWith('_') && second.startsWith('_')) {
    const tag = second.slice(1)
    const service = first.slice(1)
    if (service === '' || tag === '') return { kind: 'none' }
    return {
      kind: 'service',
      service,
      tag: PROTOCOL_LABELS.has(tag.toLowerCase()) ? undefined : tag,
    }
  }
  if (first.startsWith('_') || second.startsWith('_')) return { kind: 'none' }
  return { kind: 'service', service: second, tag: first }
}

/** The zone as the parser needs it: its labels (lower case) and the datacenter label. */
export interface DnsZone {
  /** `grapevine.` or `sd.example.com.`: the zone with its final dot. */
  readonly name: string
  readonly labels: readonly string[]
  readonly datacenter: string
}

export function createZone(domain: string, cluster: string): DnsZone {
  const labels = splitName(domain.toLowerCase())
  return { name: `${labels.join('.')}.`, labels, datacenter: cluster.toLowerCase() }
}

/** `web.service.grapevine.` → labels, ignoring the final dot and empty labels. */
function splitName(name: string): string[] {
  return name.split('.').filter((label) => label !== '')
}
