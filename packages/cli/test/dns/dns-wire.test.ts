import type { Member, ServiceInstance } from '@grapevine/core'
import { seededRandom } from '@grapevine/core/testing'
import type { Packet, SoaAnswer, SrvAnswer, StringAnswer } from 'dns-packet'
import * as dnsPacket from 'dns-packet'
import { describe, expect, it } from 'vitest'
import { createZone } from '../../src/dns/dns-names.js'
import { createDnsResponder } from '../../src/dns/dns-responder.js'
import type { DnsView } from '../../src/dns/dns-view.js'
import { answerDnsMessage, createDnsCounters } from '../../src/dns/dns-wire.js'

const decode = (bytes: Buffer) =>
  dnsPacket.decode(bytes) as dnsPacket.DecodedPacket & { rcode: string }

function instance(id: string, fields: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    id,
    name: 'web',
    version: '',
    metadata: {},
    endpoints: [],
    tags: [],
    status: 'passing',
    node: 'peer-a',
    ...fields,
  }
}

const services = new Map<string, ServiceInstance[]>([
  [
    'web',
    [
      instance('w1', {
        endpoints: ['http://10.0.0.1:8080', 'grpc://10.0.0.1:9000'],
        tags: ['edge'],
      }),
      instance('w2', { endpoints: ['http://10.0.0.2:8080'], metadata: { weight: '5' } }),
      instance('w3', { endpoints: ['http://[fd00::3]:8080'] }),
    ],
  ],
  ['named', [instance('n1', { name: 'named', endpoints: ['http://db.internal:5432'] })]],
  [
    'big',
    Array.from({ length: 300 }, (_, i) =>
      instance(`b${i}`, { name: 'big', endpoints: [`http://10.1.${i >> 8}.${i & 255}:80`] }),
    ),
  ],
])
const members: Member[] = [
  {
    id: 'peer-a',
    addresses: ['/ip4/192.168.1.10/tcp/7946/p2p/peer-a', '/ip4/0.0.0.0/tcp/7946'],
    state: 'alive',
    gen: 1,
    lastHeardMsAgo: 0,
    self: true,
  },
]
const view: DnsView = {
  service: (name, tag) =>
    (services.get(name) ?? []).filter((i) => tag === undefined || i.tags.includes(tag)),
  node: (name) => members.find((m) => m.id === name),
}
const responder = createDnsResponder({
  view,
  zone: createZone('grapevine', 'dc1'),
  ttl: 0,
  nameserver: '127.0.0.1',
  random: seededRandom(1),
  now: () => 1_700_000_000_000,
})

function ask(
  name: string,
  type: string,
  options: { transport?: 'udp' | 'tcp'; edns?: number; ednsVersion?: number } = {},
) {
  const query: Packet = {
    id: 4242,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A' }],
    additionals:
      options.edns === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: options.edns,
              extendedRcode: 0,
              ednsVersion: options.ednsVersion ?? 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ],
  }
  const counters = createDnsCounters()
  const bytes = answerDnsMessage(
    dnsPacket.encode(query),
    options.transport ?? 'udp',
    responder,
    counters,
  )
  if (bytes === undefined) throw new Error('no answer')
  return { response: decode(bytes), bytes, counters }
}

const data = (records: unknown[] | undefined) =>
  (records as StringAnswer[]).map((r) => r.data).sort()

describe('DNS answers', () => {
  it('A: every distinct IPv4 of the healthy instances, authoritative, TTL 0', () => {
    const { response } = ask('web.service.grapevine.', 'A')
    expect(response.rcode).toBe('NOERROR')
    expect(response.flag_aa).toBe(true)
    expect(response.flag_rd).toBe(true)
    expect(response.id).toBe(4242)
    expect(data(response.answers)).toEqual(['10.0.0.1', '10.0.0.2'])
    expect(response.answers!.every((r) => (r as StringAnswer).ttl === 0)).toBe(true)
    expect(response.authorities).toEqual([])
  })

  it('AAAA: the IPv6 ones; a tag filter narrows', () => {
    expect(data(ask('web.service.grapevine.', 'AAAA').response.answers)).toEqual(['fd00::3'])
    expect(data(ask('edge.web.service.grapevine.', 'A').response.answers)).toEqual(['10.0.0.1'])
  })

  it('SRV: one record per endpoint, with the targets in the additional section', () => {
    const { response } = ask('_web._tcp.service.grapevine.', 'SRV')
    const srv = (response.answers as SrvAnswer[]).map((r) => r.data)
    expect(srv).toHaveLength(4)
    expect(srv).toContainEqual({
      priority: 1,
      weight: 1,
      port: 9000,
      target: '0a000001.addr.grapevine',
    })
    expect(srv).toContainEqual({
      priority: 1,
      weight: 5,
      port: 8080,
      target: '0a000002.addr.grapevine',
    })
    const extra = response.additionals as StringAnswer[]
    expect(extra.map((r) => [r.name, r.type, r.data]).sort()).toEqual([
      ['0a000001.addr.grapevine', 'A', '10.0.0.1'],
      ['0a000002.addr.grapevine', 'A', '10.0.0.2'],
      ['fd000000000000000000000000000003.addr.grapevine', 'AAAA', 'fd00::3'],
    ])
    // The target names resolve on their own too.
    expect(data(ask('0a000002.addr.grapevine.', 'A').response.answers)).toEqual(['10.0.0.2'])
  })

  it('SRV of a host-name endpoint targets the host name itself; A of it has no data', () => {
    const { response } = ask('named.service.grapevine.', 'SRV')
    expect((response.answers as SrvAnswer[]).map((r) => r.data.target)).toEqual(['db.internal'])
    expect(response.additionals).toEqual([])
    expect(ask('named.service.grapevine.', 'A').response.answers).toEqual([])
  })

  it('NXDOMAIN for an unknown service, node or name, with the SOA in the authority section', () => {
    for (const name of ['nope.service.grapevine.', 'nope.node.grapevine.', 'x.grapevine.']) {
      const { response } = ask(name, 'A')
      expect(response.rcode).toBe('NXDOMAIN')
      expect(response.answers).toEqual([])
      const [soa] = response.authorities as SoaAnswer[]
      expect(soa).toMatchObject({
        type: 'SOA',
        name: 'grapevine',
        data: {
          mname: 'ns.grapevine',
          rname: 'hostmaster.grapevine',
          serial: 1_700_000_000,
          minimum: 0,
        },
      })
    }
  })

  it('NODATA (NOERROR, no answer, SOA) for a name that exists without records of the type', () => {
    for (const [name, type] of [
      ['web.service.grapevine.', 'TXT'],
      ['peer-a.node.grapevine.', 'AAAA'],
      ['grapevine.', 'A'],
    ] as const) {
      const { response } = ask(name, type)
      expect(response.rcode).toBe('NOERROR')
      expect(response.answers).toEqual([])
      expect((response.authorities as SoaAnswer[])[0]!.type).toBe('SOA')
    }
  })

  it('node records: the member’s IPs, unspecified addresses left out', () => {
    expect(data(ask('peer-a.node.grapevine.', 'A').response.answers)).toEqual(['192.168.1.10'])
  })

  it('apex SOA and NS, and the name server’s address', () => {
    expect((ask('grapevine.', 'SOA').response.answers as SoaAnswer[])[0]!.type).toBe('SOA')
    const ns = ask('grapevine.', 'NS').response
    expect((ns.answers as StringAnswer[])[0]!.data).toBe('ns.grapevine')
    expect(data(ns.additionals)).toEqual(['127.0.0.1'])
  })

  it('REFUSED outside the zone (no recursion) and for classes other than IN', () => {
    const outside = ask('example.com.', 'A').response
    expect(outside.rcode).toBe('REFUSED')
    expect(outside.flag_aa).toBe(false)
    const query = dnsPacket.encode({
      id: 1,
      type: 'query',
      questions: [{ name: 'web.service.grapevine.', type: 'A', class: 'CH' }],
    })
    const bytes = answerDnsMessage(query, 'udp', responder, createDnsCounters())!
    expect(decode(bytes).rcode).toBe('REFUSED')
  })

  it('shuffles each answer', () => {
    const orders = new Set<string>()
    for (let i = 0; i < 20; i++) {
      orders.add(
        (
          ask('big.service.grapevine.', 'A', { transport: 'tcp' }).response
            .answers as StringAnswer[]
        )
          .slice(0, 5)
          .map((r) => r.data)
          .join(),
      )
    }
    expect(orders.size).toBeGreaterThan(10)
  })
})

describe('DNS sizes and EDNS0', () => {
  it('sets TC over UDP when 300 instances do not fit, keeping what fits, and answers in full over TCP', () => {
    const classic = ask('big.service.grapevine.', 'A')
    expect(classic.response.flag_tc).toBe(true)
    expect(classic.bytes.length).toBeLessThanOrEqual(512)
    expect(classic.response.answers!.length).toBeGreaterThan(0)
    expect(classic.counters.truncated).toBe(1)

    const edns = ask('big.service.grapevine.', 'A', { edns: 4096 })
    expect(edns.response.flag_tc).toBe(true)
    expect(edns.bytes.length).toBeLessThanOrEqual(4096)
    expect(edns.bytes.length).toBeGreaterThan(2048)
    expect(edns.response.additionals!.some((r) => r.type === 'OPT')).toBe(true)

    const tcp = ask('big.service.grapevine.', 'A', { transport: 'tcp' })
    expect(tcp.response.flag_tc).toBe(false)
    expect(new Set(data(tcp.response.answers)).size).toBe(300)
    const srv = ask('big.service.grapevine.', 'SRV', { transport: 'tcp' })
    expect(srv.response.answers).toHaveLength(300)
    expect(srv.response.additionals).toHaveLength(300)
  })

  it('answers EDNS0 with its own OPT (4096) and caps the client’s buffer at 4096', () => {
    const { response, bytes } = ask('big.service.grapevine.', 'A', { edns: 65_000 })
    const opt = response.additionals!.find((r) => r.type === 'OPT') as dnsPacket.OptAnswer
    expect(opt.udpPayloadSize).toBe(4096)
    expect(bytes.length).toBeLessThanOrEqual(4096)
    // A buffer below 512 counts as 512 (RFC 6891 §6.2.5).
    expect(ask('big.service.grapevine.', 'A', { edns: 100 }).bytes.length).toBeGreaterThan(400)
  })

  it('BADVERS for an EDNS version other than 0', () => {
    const { response } = ask('web.service.grapevine.', 'A', { edns: 4096, ednsVersion: 1 })
    const opt = response.additionals!.find((r) => r.type === 'OPT') as dnsPacket.OptAnswer
    expect(opt.extendedRcode).toBe(1)
    expect(response.answers).toEqual([])
  })
})

describe('malformed messages', () => {
  const counters = createDnsCounters()
  const send = (bytes: Buffer) => answerDnsMessage(bytes, 'udp', responder, counters)

  it('drops what is shorter than a header and responses; FORMERR for garbage after a header', () => {
    expect(send(Buffer.from([1, 2, 3]))).toBeUndefined()
    const response = dnsPacket.encode({ id: 7, type: 'response', questions: [] })
    expect(send(response)).toBeUndefined()
    const garbage = Buffer.from([0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 1, 2])
    const reply = decode(send(garbage)!)
    expect(reply.id).toBe(9)
    expect(reply.rcode).toBe('FORMERR')
  })

  it('FORMERR for no question or two; NOTIMP for other opcodes; SERVFAIL before the agent runs', () => {
    const none = dnsPacket.encode({ id: 1, type: 'query', questions: [] })
    expect(decode(send(none)!).rcode).toBe('FORMERR')
    const two = dnsPacket.encode({
      id: 1,
      type: 'query',
      questions: [
        { name: 'a.service.grapevine', type: 'A' },
        { name: 'b.service.grapevine', type: 'A' },
      ],
    })
    expect(decode(send(two)!).rcode).toBe('FORMERR')
    const update = Buffer.from(dnsPacket.encode({ id: 1, type: 'query', questions: [] }))
    update.writeUInt16BE(5 << 11, 2)
    expect(decode(send(update)!).rcode).toBe('NOTIMP')
    const query = dnsPacket.encode({
      id: 1,
      type: 'query',
      questions: [{ name: 'web.service.grapevine', type: 'A' }],
    })
    const early = answerDnsMessage(query, 'udp', undefined, createDnsCounters())!
    expect(decode(early).rcode).toBe('SERVFAIL')
  })

  it('answers or drops 10,000 random, truncated, looping and huge-count packets without throwing', () => {
    const random = seededRandom(20_261_201)
    const byte = () => Math.floor(random() * 256)
    const valid = dnsPacket.encode({
      id: 3,
      type: 'query',
      questions: [{ name: 'web.service.grapevine', type: 'A' }],
    })
    const makers: Array<() => Buffer> = [
      // random bytes of random length
      () => Buffer.from(Array.from({ length: Math.floor(random() * 600) }, byte)),
      // a valid query cut short
      () => valid.subarray(0, Math.floor(random() * valid.length)),
      // a name that is a compression pointer to itself, or forward
      () => {
        const b = Buffer.from(valid)
        const pointer = 0xc000 | (random() < 0.5 ? 12 : 12 + Math.floor(random() * 40))
        b.writeUInt16BE(pointer, 12)
        return b
      },
      // header counts of up to 65535 with little or nothing behind them
      () => {
        const b = Buffer.from(valid)
        for (const at of [4, 6, 8, 10])
          if (random() < 0.6) b.writeUInt16BE(Math.floor(random() * 65_536), at)
        return b
      },
      // a valid query with random bytes flipped
      () => {
        const b = Buffer.from(valid)
        for (let i = 0; i < 3; i++) b[Math.floor(random() * b.length)] = byte()
        return b
      },
    ]
    let answered = 0
    let dropped = 0
    for (let i = 0; i < 10_000; i++) {
      const packet = makers[i % makers.length]!()
      const reply = send(packet)
      if (reply === undefined) {
        dropped++
        continue
      }
      answered++
      // Every answer is itself a well-formed DNS response that fits UDP.
      expect(reply.length).toBeLessThanOrEqual(4096)
      expect(decode(reply).type).toBe('response')
    }
    expect(answered + dropped).toBe(10_000)
    expect(answered).toBeGreaterThan(1000)
    // The responder still answers a good query afterwards.
    expect(ask('web.service.grapevine.', 'A').response.rcode).toBe('NOERROR')
  })
})
