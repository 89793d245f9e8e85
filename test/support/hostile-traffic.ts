import {
  type Claim,
  type ClaimSigning,
  type Digest,
  type Seal,
  type SyncPart,
  signClaim,
  signSeal,
} from '@grapevine/core'
import {
  createRecordSigner,
  encodePubsubMessage,
  encodeSyncFrame,
  generatePrivateKey,
  MessageType,
  PROTOCOL_VERSION,
  peerIdOf,
} from '@grapevine/gossip'
import { encodeTopicRpc, type RawPeer, type RawTopicMessage } from '@grapevine/gossip/testing'

/**
 * The hostile traffic of the hostile-input suite, built before the flood so that sending it
 * costs the attacker next to nothing: gossipsub RPCs (each several messages) and sync ACK2
 * frames (each one part per origin), every one of them bytes ready to write. Pure over a
 * seeded random; the attacker process (hostile-attacker-main.ts) only writes them.
 */

export type Random = () => number

export interface FakeOrigin {
  readonly id: string
  readonly seal: Seal
  readonly claim: Claim
}

export interface HonestState {
  /** Each honest origin's newest seal as the victim relayed it (real, signed by the origin). */
  readonly seals: Map<string, Seal>
  /** Honest claims the victim relayed, by origin. */
  readonly claims: Map<string, Claim[]>
  /** The victim's digest: a SYN that claims all of it gets an ACK with nothing in it. */
  digest: Digest
}

/** What each kind of hostile message sent counts as. */
export type Counts = Record<string, number>

const HUGE = 2 ** 53 - 1

export function randomBytes(random: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256)
  return bytes
}

function instance(id: string, node: string, endpoint: string, name = 'hostile') {
  return {
    id,
    name,
    version: '',
    metadata: {},
    endpoints: [endpoint],
    tags: [],
    status: 'passing' as const,
    node,
  }
}

/** Identities the attacker made up: real keys, valid signatures, never members of the cluster. */
export async function fakeOrigins(cluster: string, count: number): Promise<FakeOrigin[]> {
  const out: FakeOrigin[] = []
  for (let i = 0; i < count; i++) {
    const key = await generatePrivateKey()
    const id = peerIdOf(key)
    const signing = { cluster, signer: createRecordSigner(key) }
    out.push({
      id,
      seal: signSeal(signing, { origin: id, gen: 1, covered: 1, floor: 0 }),
      claim: signClaim(signing, {
        origin: id,
        gen: 1,
        seq: 1,
        id: `fake-${i}`,
        vv: { [id]: 1 },
        instance: instance(`fake-${i}`, id, 'http://10.9.9.9:80'),
      }),
    })
  }
  return out
}

/** The attacker's own origin: correctly signed claims, numbered on from one counter. */
export interface OwnWriter {
  readonly origin: string
  /** `count` new claims (or claims of `ids`, a takeover when `vv` dominates their owners). */
  claims(count: number, ids?: readonly string[], vv?: Record<string, number>): Claim[]
  seal(): Seal
  readonly covered: number
}

export function ownWriter(origin: string, signing: ClaimSigning): OwnWriter {
  let seq = 0
  let counter = 0
  return {
    origin,
    get covered() {
      return seq
    },
    claims(count, ids, vv) {
      return Array.from({ length: count }, (_, i) => {
        seq++
        const id = ids?.[i] ?? `flood-${++counter}`
        return signClaim(signing, {
          origin,
          gen: 1,
          seq,
          id,
          vv: { ...vv, [origin]: seq },
          instance: instance(id, origin, 'http://10.6.6.6:80'),
        })
      })
    },
    seal: () => signSeal(signing, { origin, gen: 1, covered: seq, floor: 0 }),
  }
}

function delta(own: OwnWriter, claims: Claim[], extra: object = {}): Uint8Array {
  return encodePubsubMessage({
    v: PROTOCOL_VERSION,
    t: MessageType.DELTA,
    origin: own.origin,
    gen: 1,
    hbSeq: 1,
    fromSeq: claims[0]!.seq,
    toSeq: claims.at(-1)!.seq,
    claims,
    seal: own.seal(),
    ...extra,
  })
}

/**
 * The data of hostile topic messages (each then signed as a gossipsub message), by kind. A
 * small pool per kind, reused under fresh seqnos: what the victim checks is the same.
 */
export function topicPayloads(
  random: Random,
  own: OwnWriter,
  honest: HonestState,
  victim: string,
): Record<string, Uint8Array[]> {
  const pool = (n: number, make: (i: number) => Uint8Array) => Array.from({ length: n }, make)
  const victimClaim = honest.claims.get(victim)?.[0]
  return {
    random: pool(32, () => randomBytes(random, 1 + Math.floor(random() * 300))),
    truncated: pool(32, () => {
      const valid = delta(own, own.claims(1))
      return valid.subarray(0, Math.floor(random() * valid.byteLength))
    }),
    oversized: pool(2, () => randomBytes(random, 70 * 1024)),
    // The victim's origin, gossipsub-signed by the attacker (the validator wants signer == origin).
    forgedOrigin: pool(8, (i) =>
      encodePubsubMessage({
        v: PROTOCOL_VERSION,
        t: MessageType.DELTA,
        origin: victim,
        gen: HUGE - i,
        hbSeq: 1,
        fromSeq: 1_000_000,
        toSeq: 1_000_000,
        claims: victimClaim === undefined ? [] : [{ ...victimClaim, seq: 1_000_000 }],
      }),
    ),
    // The attacker's own DELTA with a vector entry of 2^53 - 1 for the victim.
    poisonedVector: pool(8, () => {
      const [claim] = own.claims(1)
      return delta(own, [{ ...claim!, vv: { [own.origin]: claim!.seq, [victim]: HUGE } }])
    }),
    // Quota floods: the attacker's own, valid DELTAs of 50 new instances each.
    quota: pool(60, () => delta(own, own.claims(50))),
  }
}

/** A gossipsub RPC of `size` hostile messages, cycling the kinds; counts what it holds. */
export function topicRpc(
  peer: RawPeer,
  topic: string,
  payloads: Record<string, Uint8Array[]>,
  random: Random,
  firstSeqno: bigint,
  size: number,
  counts: Counts,
  victimFrom: Uint8Array,
): Uint8Array {
  const messages: RawTopicMessage[] = []
  for (let i = 0; i < size; i++) {
    const seqno = firstSeqno + BigInt(i)
    const roll = random()
    const pick = (kind: string) => {
      const list = payloads[kind]!
      counts[kind] = (counts[kind] ?? 0) + 1
      return list[Math.floor(random() * list.length)]!
    }
    let message: RawTopicMessage
    if (roll < 0.1) {
      counts.wrongSignature = (counts.wrongSignature ?? 0) + 1
      message = {
        ...peer.signTopicMessage(topic, pick('random'), seqno),
        signature: randomBytes(random, 64),
      }
      counts.random!--
    } else if (roll < 0.15) {
      // Signed by the attacker, `from` the victim: gossipsub's signature check fails.
      counts.forgedFrom = (counts.forgedFrom ?? 0) + 1
      message = peer.signTopicMessage(topic, pick('quota'), seqno, victimFrom)
      counts.quota!--
    } else if (roll < 0.18) {
      counts.unsigned = (counts.unsigned ?? 0) + 1
      message = { topic, data: pick('random') }
      counts.random!--
    } else if (roll < 0.2) {
      counts.otherTopic = (counts.otherTopic ?? 0) + 1
      message = peer.signTopicMessage(`${topic}x`, pick('random'), seqno)
      counts.random!--
    } else if (roll < 0.202) {
      message = peer.signTopicMessage(topic, pick('oversized'), seqno)
    } else {
      const kinds = ['random', 'truncated', 'forgedOrigin', 'poisonedVector', 'quota']
      message = peer.signTopicMessage(
        topic,
        pick(kinds[Math.floor(random() * kinds.length)]!),
        seqno,
      )
    }
    messages.push(message)
  }
  return encodeTopicRpc({ messages })
}

/**
 * The parts of one hostile ACK2 (one per origin, as the decoder requires): forged coverage or
 * generation or signatures for the honest origins, made-up origins, and the attacker's own
 * part with a poisoned vector, a takeover of honest ids or a quota flood.
 */
export function hostileParts(
  round: number,
  random: Random,
  own: OwnWriter,
  honest: HonestState,
  fakes: readonly FakeOrigin[],
  victims: readonly [string, string],
  fakeCount: number,
  counts: Counts,
): SyncPart[] {
  const count = (kind: string) => {
    counts[kind] = (counts[kind] ?? 0) + 1
  }
  const parts: SyncPart[] = []
  const [first, second] = victims
  const seal = honest.seals.get(first)
  const honestClaim = honest.claims.get(first)?.at(-1)
  if (seal !== undefined && honestClaim !== undefined) {
    switch (round % 4) {
      case 0:
        count('forgedCoverage')
        parts.push({
          origin: first,
          gen: seal.gen,
          full: false,
          after: seal.covered,
          covered: seal.covered + 1_000_000,
          claims: [],
          seal,
        })
        break
      case 1:
        count('forgedGeneration')
        parts.push({
          origin: first,
          gen: HUGE,
          full: true,
          after: 0,
          covered: 0,
          claims: [],
          seal: { origin: first, gen: HUGE, covered: 0, floor: 0, sig: randomBytes(random, 64) },
        })
        break
      case 2:
        count('forgedClaimSignature')
        parts.push({
          origin: first,
          gen: seal.gen,
          full: false,
          after: seal.covered - 1,
          covered: seal.covered,
          claims: [
            {
              ...honestClaim,
              seq: seal.covered,
              instance: honestClaim.instance && {
                ...honestClaim.instance,
                endpoints: ['http://6.6.6.6:80'],
              },
              sig: randomBytes(random, 64),
            },
          ],
          seal,
        })
        break
      default:
        count('noSeal')
        parts.push({ origin: first, gen: seal.gen, full: true, after: 0, covered: 1, claims: [] })
    }
  }
  // The second victim: a full snapshot that is empty ("it holds nothing"), under its real seal.
  const secondSeal = honest.seals.get(second)
  if (secondSeal !== undefined) {
    count('omission')
    parts.push({
      origin: second,
      gen: secondSeal.gen,
      full: true,
      after: 0,
      covered: secondSeal.covered,
      claims: [],
      seal: secondSeal,
    })
  }
  for (let i = 0; i < fakeCount; i++) {
    const fake = fakes[(round * fakeCount + i) % fakes.length]!
    count('fakeOrigin')
    parts.push({
      origin: fake.id,
      gen: 1,
      full: true,
      after: 0,
      covered: 1,
      claims: [fake.claim],
      seal: fake.seal,
    })
  }
  const kind = round % 3
  const from = own.covered
  let claims: Claim[]
  if (kind === 0) {
    count('poisonedVector')
    const [claim] = own.claims(1)
    claims = [{ ...claim!, vv: { [own.origin]: claim!.seq, [first]: HUGE } }]
  } else if (kind === 1 && (honest.claims.get(first)?.length ?? 0) > 0) {
    count('takeover')
    const ids = honest.claims
      .get(first)!
      .filter((claim) => claim.instance !== null)
      .slice(0, 2)
      .map((claim) => claim.id)
    claims = own.claims(
      ids.length,
      ids,
      Object.fromEntries(victims.map((victim) => [victim, 1_000])),
    )
  } else {
    count('quota')
    claims = own.claims(10)
  }
  parts.push({
    origin: own.origin,
    gen: 1,
    full: false,
    after: from,
    covered: own.covered,
    claims,
    seal: own.seal(),
  })
  return parts
}

export function ack2Frame(parts: SyncPart[]): Uint8Array {
  return encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.ACK2, parts })
}

/**
 * A SYN that claims more than the victim holds of every origin (forged coverage in a
 * digest): the victim has nothing to send back.
 */
export function synFrame(cluster: string, digest: Digest): Uint8Array {
  const forged: Digest = Object.fromEntries(
    Object.entries(digest).map(([origin, state]) => [
      origin,
      { ...state, covered: state.covered + 1_000_000 },
    ]),
  )
  return encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.SYN, cluster, digest: forged })
}

/** Raw frames for fresh streams: random, truncated, a wrong type first. */
export function rawFrame(kind: number, random: Random, cluster: string): Uint8Array {
  switch (kind % 3) {
    case 0:
      return randomBytes(random, 1 + Math.floor(random() * 500))
    case 1: {
      const syn = encodeSyncFrame({
        v: PROTOCOL_VERSION,
        t: MessageType.SYN,
        cluster,
        digest: {},
      })
      return syn.subarray(0, Math.floor(random() * syn.byteLength))
    }
    default:
      return encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: [] })
  }
}
