import type { DecodedPacket, OptAnswer, Packet } from 'dns-packet'
import * as dnsPacket from 'dns-packet'
import { type DnsResponder, RCODE } from './dns-responder.js'

export type DnsTransport = 'udp' | 'tcp'

/** Named limits of the DNS interface. */
export const DNS_LIMITS = {
  /** Largest UDP answer without EDNS0 (RFC 1035). */
  udpClassic: 512,
  /** Largest UDP answer we offer with EDNS0: 4096 is common, 1232 is the "flag day" safe size. */
  udpEdnsMax: 4096,
  /** Largest TCP message: the two-byte length prefix. */
  tcp: 65_535,
} as const

/** Why a message got no answer at all; counted, never thrown. */
export type DnsDropReason = 'short' | 'response'

/** Counters of the DNS interface (for tests and logs). */
export interface DnsCounters {
  queries: number
  truncated: number
  byRcode: Record<string, number>
  dropped: Record<DnsDropReason, number>
}

export function createDnsCounters(): DnsCounters {
  return { queries: 0, truncated: 0, byRcode: {}, dropped: { short: 0, response: 0 } }
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED']
const HEADER_BYTES = 12
const QR = 1 << 15
/** Root name (1 byte), type and class. */
const MIN_QUESTION_BYTES = 5
/** Root name, type, class, TTL and data length. */
const MIN_RECORD_BYTES = 11
/** RFC 6891: BADVERS is extended rcode 16, i.e. 1 in the OPT record's upper 8 bits. */
const BADVERS_EXTENDED = 1

/**
 * Turns one DNS message into the bytes to send back, or undefined to send nothing. Network
 * bytes are data: nothing here throws. Too short for a header, or a response rather than a
 * query (answering those would let two servers bounce packets forever): dropped. A header
 * followed by garbage: FORMERR. Not a QUERY: NOTIMP. Before the agent runs (`responder`
 * undefined): SERVFAIL, so resolvers retry.
 *
 * Size: UDP answers fit the client's EDNS0 buffer (512 without EDNS0, at most 4096); an
 * answer that does not fit carries the records that do and the TC bit, and the client asks
 * again over TCP, where the whole answer (up to 64 KiB) is sent.
 */
export function answerDnsMessage(
  message: Buffer,
  transport: DnsTransport,
  responder: DnsResponder | undefined,
  counters: DnsCounters,
): Buffer | undefined {
  if (message.length < HEADER_BYTES) {
    counters.dropped.short++
    return undefined
  }
  const id = message.readUInt16BE(0)
  const flags = message.readUInt16BE(2)
  if ((flags & QR) !== 0) {
    counters.dropped.response++
    return undefined
  }
  counters.queries++
  const opcode = (flags >> 11) & 0xf
  const recursionDesired = flags & dnsPacket.RECURSION_DESIRED
  const bare = (rcode: number): Buffer => {
    count(counters, rcode)
    return headerOnly(id, (opcode << 11) | recursionDesired | rcode)
  }
  if (opcode !== 0) return bare(RCODE.NOTIMP)

  // Checked on the header before decoding: the decoder allocates and walks each section by
  // its count, so a 12-byte packet claiming 65535 records costs milliseconds each, an easy
  // way to burn the CPU. A query asks one question; each record takes at least 11 bytes.
  const questions = message.readUInt16BE(4)
  const records = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10)
  if (
    questions !== 1 ||
    HEADER_BYTES + MIN_QUESTION_BYTES + records * MIN_RECORD_BYTES > message.length
  ) {
    return bare(RCODE.FORMERR)
  }
  let query: DecodedPacket
  try {
    query = dnsPacket.decode(message)
  } catch {
    return bare(RCODE.FORMERR)
  }
  const question = query.questions?.[0]
  if (query.questions?.length !== 1 || question === undefined) return bare(RCODE.FORMERR)
  const opts = (query.additionals ?? []).filter(
    (record): record is OptAnswer => record.type === 'OPT',
  )
  if (opts.length > 1) return bare(RCODE.FORMERR)
  const opt = opts[0]

  const response: Packet = {
    id,
    type: 'response',
    flags: recursionDesired,
    questions: [question],
    answers: [],
    authorities: [],
    additionals: [],
  }
  let rcode: number = RCODE.NOERROR
  let extendedRcode = 0
  if (opt !== undefined && opt.ednsVersion !== 0) {
    extendedRcode = BADVERS_EXTENDED
  } else if (responder === undefined) {
    rcode = RCODE.SERVFAIL
  } else if (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY') {
    rcode = RCODE.REFUSED
  } else {
    let result: ReturnType<DnsResponder['answer']>
    try {
      result = responder.answer(question)
    } catch {
      return bare(RCODE.SERVFAIL)
    }
    rcode = result.rcode
    if (result.authoritative) response.flags! |= dnsPacket.AUTHORITATIVE_ANSWER
    response.answers = result.answers
    response.authorities = result.authorities
    response.additionals = result.additionals
  }
  response.flags! |= rcode
  if (opt !== undefined) {
    const ours: OptAnswer = {
      type: 'OPT',
      name: '.',
      udpPayloadSize: DNS_LIMITS.udpEdnsMax,
      extendedRcode,
      ednsVersion: 0,
      flags: 0,
      flag_do: false,
      options: [],
    }
    response.additionals = [...(response.additionals ?? []), ours]
  }
  const limit =
    transport === 'tcp'
      ? DNS_LIMITS.tcp
      : opt === undefined
        ? DNS_LIMITS.udpClassic
        : Math.min(Math.max(opt.udpPayloadSize, DNS_LIMITS.udpClassic), DNS_LIMITS.udpEdnsMax)
  count(counters, extendedRcode === 0 ? rcode : 16)
  try {
    // Encoded once: the encoder measures the packet itself, so asking for the length first
    // would do that work twice on every answer.
    const bytes = dnsPacket.encode(response)
    if (bytes.length <= limit) return bytes
    counters.truncated++
    return dnsPacket.encode(truncate(response, opt !== undefined, limit))
  } catch {
    return bare(RCODE.SERVFAIL)
  }
}

/**
 * The TC answer: the answer records that fit (in their shuffled order), no authority or
 * additional records but our OPT. Found by bisection on the number of records, since the
 * encoder's length is a sum over records (dns-packet does not compress names).
 */
function truncate(response: Packet, withOpt: boolean, limit: number): Packet {
  const all = response.answers ?? []
  const opt = withOpt ? (response.additionals ?? []).filter((r) => r.type === 'OPT') : []
  const cut = (n: number): Packet => ({
    ...response,
    flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: all.slice(0, n),
    authorities: [],
    additionals: opt,
  })
  let low = 0
  let high = all.length
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (dnsPacket.encodingLength(cut(mid)) <= limit) low = mid
    else high = mid - 1
  }
  return cut(low)
}

function headerOnly(id: number, flags: number): Buffer {
  const buffer = Buffer.alloc(HEADER_BYTES)
  buffer.writeUInt16BE(id, 0)
  buffer.writeUInt16BE(QR | flags, 2)
  return buffer
}

function count(counters: DnsCounters, rcode: number): void {
  const name = rcode === 16 ? 'BADVERS' : (RCODE_NAMES[rcode] ?? String(rcode))
  counters.byRcode[name] = (counters.byRcode[name] ?? 0) + 1
}
