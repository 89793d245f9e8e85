import type { ServiceInstance } from '@grapevine/core'
import type { Answer, Question, SoaAnswer, SrvAnswer, StringAnswer } from 'dns-packet'
import {
  addressLabel,
  instanceEndpoints,
  memberAddresses,
  parseAddressLabel,
} from './dns-addresses.js'
import { type DnsZone, parseQueryName } from './dns-names.js'
import type { DnsView } from './dns-view.js'

/** The response codes the responder gives (RFC 1035 §4.1.1). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const

/** What one question is answered with; the wire layer adds header, EDNS and truncation. */
export interface DnsAnswer {
  readonly rcode: number
  /** Whether this agent is authoritative for the name (inside its zone). */
  readonly authoritative: boolean
  readonly answers: Answer[]
  readonly authorities: Answer[]
  readonly additionals: Answer[]
}

export interface DnsResponderInit {
  view: DnsView
  zone: DnsZone
  /** TTL of every record, in seconds. The SOA minimum (negative-answer TTL) is the same. */
  ttl: number
  /** The address `ns.<zone>` resolves to. */
  nameserver: string
  /** Uniform in [0, 1); shuffles each answer (so naive clients spread their load). */
  random: () => number
  /** Wall clock in ms, for the SOA serial. */
  now: () => number
}

export interface DnsResponder {
  answer(question: Question): DnsAnswer
}

/**
 * Answers one question from the registry: pure given the view, the clock and the random
 * source, so every rule below is tested without sockets.
 *
 * - A/AAAA of a service: every distinct IP among the healthy instances' endpoints, shuffled.
 * - SRV: one record per distinct endpoint (host, port), target `HEX.addr.<zone>` with its
 *   A/AAAA in the additional section; a host-name endpoint is its own target. Priority 1;
 *   weight from metadata `weight` (1–65535, the balancer's key), else 1.
 * - No healthy instance (or no such name): NXDOMAIN. A name with records, but none of the type
 *   asked: NODATA (NOERROR, empty answer). Both carry the zone's SOA in the authority
 *   section, so resolvers cache the negative answer for the SOA minimum (RFC 2308).
 */
export function createDnsResponder(init: DnsResponderInit): DnsResponder {
  const { zone, ttl, view } = init
  const nameserverName = `ns.${zone.name}`

  const soa = (): SoaAnswer => ({
    type: 'SOA',
    name: zone.name,
    ttl,
    class: 'IN',
    data: {
      mname: nameserverName,
      rname: `hostmaster.${zone.name}`,
      // Seconds since the epoch, as Consul does: it only ever grows.
      serial: Math.floor(init.now() / 1000) >>> 0,
      refresh: 3600,
      retry: 600,
      expire: 86_400,
      minimum: ttl,
    },
  })

  const result = (
    rcode: number,
    answers: Answer[] = [],
    additionals: Answer[] = [],
  ): DnsAnswer => ({
    rcode,
    authoritative: true,
    answers,
    additionals,
    // Negative answers (NXDOMAIN, NODATA) carry the SOA.
    authorities: rcode === RCODE.NXDOMAIN || answers.length === 0 ? [soa()] : [],
  })

  const addressRecord = (name: string, ip: string): StringAnswer => ({
    type: ip.includes(':') ? 'AAAA' : 'A',
    name,
    ttl,
    class: 'IN',
    data: ip,
  })

  const shuffle = <T>(list: T[]): T[] => {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(init.random() * (i + 1))
      const item = list[i]!
      list[i] = list[j]!
      list[j] = item
    }
    return list
  }

  const wantsAddress = (type: string, ip: string): boolean => {
    if (type === 'ANY') return true
    return type === (ip.includes(':') ? 'AAAA' : 'A')
  }

  /** A/AAAA/SRV/ANY of a service's healthy instances. */
  /**
   * The records of one answer, before shuffling, cached on the instance list: `getService`
   * hands out the same frozen array until the service changes, so the cache cannot go stale
   * and dies with the array. Keyed by type and the name as asked (records echo its case);
   * a few names per list at most, since 0x20-randomizing resolvers ask in ever new cases.
   */
  const recordCache = new WeakMap<
    readonly unknown[],
    Map<string, { answers: Answer[]; additionals: Answer[] }>
  >()
  const serviceAnswer = (name: string, type: string, service: string, tag: string | undefined) => {
    const instances = view.service(service, tag)
    if (instances.length === 0) return result(RCODE.NXDOMAIN)
    let byName = recordCache.get(instances)
    const key = `${type} ${name}`
    let cached = byName?.get(key)
    if (cached === undefined) {
      cached = serviceRecords(name, type, instances)
      if (byName === undefined || byName.size >= RECORD_CACHE_NAMES) {
        byName = new Map()
        recordCache.set(instances, byName)
      }
      byName.set(key, cached)
    }
    return result(RCODE.NOERROR, shuffle([...cached.answers]), cached.additionals)
  }

  const serviceRecords = (
    name: string,
    type: string,
    instances: readonly ServiceInstance[],
  ): { answers: Answer[]; additionals: Answer[] } => {
    if (type === 'SRV') {
      const seen = new Set<string>()
      const records: SrvAnswer[] = []
      const extra = new Map<string, StringAnswer>()
      for (const instance of instances) {
        const weight = srvWeight(instance.metadata.weight)
        for (const endpoint of instanceEndpoints(instance)) {
          const target =
            endpoint.family === 0
              ? `${endpoint.host}.`
              : `${addressLabel(endpoint.host)}.addr.${zone.name}`
          const key = `${target} ${endpoint.port}`
          if (seen.has(key)) continue
          seen.add(key)
          records.push({
            type: 'SRV',
            name,
            ttl,
            class: 'IN',
            data: { priority: 1, weight, port: endpoint.port, target },
          })
          if (endpoint.family !== 0 && !extra.has(target)) {
            extra.set(target, addressRecord(target, endpoint.host))
          }
        }
      }
      return { answers: records, additionals: [...extra.values()] }
    }
    const ips = new Set<string>()
    for (const instance of instances) {
      for (const endpoint of instanceEndpoints(instance)) {
        if (endpoint.family !== 0 && wantsAddress(type, endpoint.host)) ips.add(endpoint.host)
      }
    }
    return { answers: [...ips].map((ip) => addressRecord(name, ip)), additionals: [] }
  }

  return {
    answer(question) {
      const { name } = question
      const type = question.type as string
      const target = parseQueryName(name, zone)
      if (target === undefined) {
        // Not our zone: this agent does not recurse.
        return {
          rcode: RCODE.REFUSED,
          authoritative: false,
          answers: [],
          authorities: [],
          additionals: [],
        }
      }
      switch (target.kind) {
        case 'none':
          return result(RCODE.NXDOMAIN)
        case 'apex':
          if (type === 'SOA' || type === 'ANY') return result(RCODE.NOERROR, [soa()])
          if (type === 'NS') {
            return result(
              RCODE.NOERROR,
              [{ type: 'NS', name: zone.name, ttl, class: 'IN', data: nameserverName }],
              [addressRecord(nameserverName, init.nameserver)],
            )
          }
          return result(RCODE.NOERROR)
        case 'nameserver':
          return result(
            RCODE.NOERROR,
            wantsAddress(type, init.nameserver) ? [addressRecord(name, init.nameserver)] : [],
          )
        case 'service':
          return serviceAnswer(name, type, target.service, target.tag)
        case 'node': {
          const member = view.node(target.node)
          if (member === undefined) return result(RCODE.NXDOMAIN)
          const ips = memberAddresses(member).filter((ip) => wantsAddress(type, ip))
          return result(RCODE.NOERROR, shuffle(ips.map((ip) => addressRecord(name, ip))))
        }
        case 'addr': {
          const ip = parseAddressLabel(target.address)
          if (ip === undefined) return result(RCODE.NXDOMAIN)
          return result(RCODE.NOERROR, wantsAddress(type, ip) ? [addressRecord(name, ip)] : [])
        }
      }
    },
  }
}

/** Names (spellings) cached per instance list; see `recordCache`. */
const RECORD_CACHE_NAMES = 8

/** SRV weight from the metadata `weight` the balancer also reads: 1–65535, else 1. */
function srvWeight(text: string | undefined): number {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return 1
  const weight = Number(text)
  return weight >= 1 && weight <= 65_535 ? weight : 1
}
