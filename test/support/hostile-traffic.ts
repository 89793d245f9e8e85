import {
  type Claim,
  createRegistryNode,
  type Delta,
  PROFILES,
  type Seal,
  type SyncPart,
  signClaim,
  signSeal,
} from '@grapevine/core'
import {
  createHost,
  createRecordSigner,
  encodePubsubMessage,
  encodeSyncFrame,
  generatePrivateKey,
  type Host,
  MessageType,
  PROTOCOL_VERSION,
  peerIdOf,
  SYNC_PROTOCOL,
  type SyncFrame,
} from '@grapevine/gossip'
import { lpStream } from 'it-length-prefixed-stream'

/**
 * The attacker of the hostile-input suite: a cluster member with its own key (it got past the
 * cluster key, or there is none), on 127.0.0.1, that sends every kind of bad input issue 9
 * lists through the real topic and real sync streams. Pure generators below take a seeded
 * random; the host only moves bytes.
 */

export type Random = () => number

export interface FakeOrigin {
  readonly id: string
  readonly seal: (covered: number) => Seal
  readonly claim: (seq: number, id: string) => Claim
}

const CLUSTER = 'test'

function instance(id: string, node: string, endpoint: string, name = 'hostile') {
  return Object.freeze({
    id,
    name,
    version: '',
    metadata: Object.freeze({}),
    endpoints: Object.freeze([endpoint]),
    tags: Object.freeze([]),
    status: 'passing' as const,
    node,
  })
}

/** Identities the attacker made up: real keys, valid signatures, never members of the cluster. */
export async function fakeOrigins(count: number): Promise<FakeOrigin[]> {
  const out: FakeOrigin[] = []
  for (let i = 0; i < count; i++) {
    const key = await generatePrivateKey()
    const id = peerIdOf(key)
    const signing = { cluster: CLUSTER, signer: createRecordSigner(key) }
    out.push({
      id,
      seal: (covered) => signSeal(signing, { origin: id, gen: 1, covered, floor: 0 }),
      claim: (seq, instanceId) =>
        signClaim(signing, {
          origin: id,
          gen: 1,
          seq,
          id: instanceId,
          vv: { [id]: seq },
          instance: instance(instanceId, id, 'http://10.9.9.9:80'),
        }),
    })
  }
  return out
}

export function randomBytes(random: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256)
  return bytes
}

function forgedSignature(random: Random): Uint8Array {
  return randomBytes(random, 64)
}

export interface HonestState {
  /** Each honest origin's newest seal as relayed to the attacker (real, signed by the origin). */
  readonly seals: Map<string, Seal>
  /** Honest claims the attacker received, by origin. */
  readonly claims: Map<string, Claim[]>
}

/** The attacker: a host plus its own (properly signing) registry node for its own claims. */
export interface Attacker {
  readonly host: Host
  readonly id: string
  /** Own claims, correctly signed, for quota floods and takeover attempts. */
  ownDelta(count: number, ids?: readonly string[], vv?: Record<string, number>): Delta
  ownSeal(): Seal
  stop(): Promise<void>
}

export async function startAttacker(bootstrap: readonly string[]): Promise<Attacker> {
  const host = await createHost({
    cluster: CLUSTER,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    bootstrap: [...bootstrap],
  })
  await host.start()
  host.libp2p.services.pubsub.subscribe(`grapevine/${CLUSTER}/${PROTOCOL_VERSION}`)
  const registry = createRegistryNode({
    nodeId: host.peerId,
    gen: 1,
    now: () => performance.now(),
    timings: PROFILES.lan,
    signing: host.signing,
    quota: { claims: 1_000_000, bytes: 1 << 30 },
  })
  let counter = 0
  return {
    host,
    id: host.peerId,
    ownDelta(count, ids, vv) {
      const entries = Array.from({ length: count }, (_, i) => {
        const id = ids?.[i] ?? `flood-${++counter}`
        return { id, instance: instance(id, host.peerId, 'http://10.6.6.6:80') }
      })
      if (vv === undefined) return writeOwn(entries)
      // A takeover: claims of honest ids with a vector that dominates the owner's.
      const delta = writeOwn(entries)
      const claims = delta.claims.map((claim) =>
        signClaim(host.signing, { ...claim, vv: { ...vv, [host.peerId]: claim.seq } }),
      )
      return { ...delta, claims }
    },
    ownSeal: () => registry.ownSeal()!,
    async stop() {
      await host.stop()
    },
  }

  function writeOwn(entries: { id: string; instance: ReturnType<typeof instance> }[]): Delta {
    const origin = host.peerId
    const fromSeq = (registry.replica.origin(origin)?.covered ?? 0) + 1
    const claims = entries.map(({ id, instance: inst }, i) =>
      signClaim(host.signing, {
        origin,
        gen: 1,
        seq: fromSeq + i,
        id,
        vv: { [origin]: 1 },
        instance: inst,
      }),
    )
    const delta: Delta = { origin, gen: 1, fromSeq, toSeq: fromSeq + claims.length - 1, claims }
    registry.replica.applyDelta(delta)
    return delta
  }
}

/** One hostile pubsub message, by kind; bytes ready to publish. */
export function hostileTopicMessage(
  kind: number,
  random: Random,
  attacker: Attacker,
  honest: HonestState,
  victim: string,
): Uint8Array {
  switch (kind % 6) {
    case 0:
      return randomBytes(random, 1 + Math.floor(random() * 200))
    case 1: {
      const valid = encodePubsubMessage({
        v: PROTOCOL_VERSION,
        t: MessageType.DELTA,
        hbSeq: 1,
        ...attacker.ownDelta(1),
      })
      return valid.subarray(0, Math.floor(random() * valid.byteLength))
    }
    case 2:
      return randomBytes(random, 70 * 1024) // over the 64 KiB limit
    case 3: {
      // Forged origin: the victim's origin, signed (by gossipsub) with the attacker's key.
      const claim = honest.claims.get(victim)?.[0]
      const claims = claim === undefined ? [] : [{ ...claim, seq: 1_000_000 }]
      return encodePubsubMessage({
        v: PROTOCOL_VERSION,
        t: MessageType.DELTA,
        origin: victim,
        gen: 1,
        hbSeq: 1,
        fromSeq: 1_000_000,
        toSeq: 1_000_000,
        claims,
      } as never)
    }
    case 4: {
      // A poisoned vector in the attacker's own DELTA.
      const delta = attacker.ownDelta(1)
      const claim = { ...delta.claims[0]!, vv: { [attacker.id]: 1, [victim]: 2 ** 53 - 1 } }
      return encodePubsubMessage({
        v: PROTOCOL_VERSION,
        t: MessageType.DELTA,
        hbSeq: 1,
        ...delta,
        claims: [claim],
      })
    }
    default: {
      // A quota flood: the attacker's own, valid DELTAs of 100 instances each.
      const delta = attacker.ownDelta(100)
      return encodePubsubMessage({
        v: PROTOCOL_VERSION,
        t: MessageType.DELTA,
        hbSeq: 1,
        ...delta,
        seal: attacker.ownSeal(),
      })
    }
  }
}

/**
 * The hostile parts of one ACK2 (one per origin, as the decoder requires): forged coverage and
 * generation for an honest origin, a relayed claim with a forged signature, a made-up origin,
 * a poisoned vector, a takeover attempt and a quota flood in the attacker's own part.
 */
export function hostileParts(
  round: number,
  random: Random,
  attacker: Attacker,
  honest: HonestState,
  fakes: readonly FakeOrigin[],
  victims: readonly string[],
): SyncPart[] {
  const parts: SyncPart[] = []
  const [first, second] = victims as [string, string]
  const seal = honest.seals.get(first)
  const honestClaim = honest.claims.get(first)?.[0]
  switch (round % 4) {
    case 0:
      // Coverage pushed up by a million, under the origin's real seal (which says less).
      if (seal !== undefined && honestClaim !== undefined) {
        parts.push({
          origin: first,
          gen: seal.gen,
          full: false,
          after: seal.covered,
          covered: seal.covered + 1_000_000,
          claims: [],
          seal,
        })
      }
      break
    case 1:
      // A generation of 2^53 - 1, with a seal the attacker signed itself.
      parts.push({
        origin: first,
        gen: 2 ** 53 - 1,
        full: true,
        after: 0,
        covered: 0,
        claims: [],
        seal: {
          origin: first,
          gen: 2 ** 53 - 1,
          covered: 0,
          floor: 0,
          sig: forgedSignature(random),
        },
      })
      break
    case 2:
      // An honest origin's claim, rewritten (another endpoint) under a forged signature.
      if (seal !== undefined && honestClaim?.instance) {
        const forged: Claim = {
          ...honestClaim,
          seq: seal.covered,
          instance: { ...honestClaim.instance, endpoints: ['http://6.6.6.6:80'] },
          sig: forgedSignature(random),
        }
        parts.push({
          origin: first,
          gen: seal.gen,
          full: false,
          after: seal.covered - 1,
          covered: seal.covered,
          claims: [forged],
          seal,
        })
      }
      break
    default:
      // No seal at all.
      parts.push({ origin: first, gen: 1, full: false, after: 0, covered: 5, claims: [] })
  }
  // The second victim: its part with no seal, or with its seal and no claims beyond it.
  const secondSeal = honest.seals.get(second)
  parts.push(
    secondSeal === undefined
      ? { origin: second, gen: 1, full: true, after: 0, covered: 3, claims: [] }
      : {
          origin: second,
          gen: secondSeal.gen,
          full: true,
          after: 0,
          covered: secondSeal.covered,
          claims: [],
          ...(round % 2 === 0 ? {} : { seal: secondSeal }),
        },
  )
  // A made-up origin with valid signatures.
  const fake = fakes[round % fakes.length]!
  parts.push({
    origin: fake.id,
    gen: 1,
    full: true,
    after: 0,
    covered: 1,
    claims: [fake.claim(1, `fake-${round}`)],
    seal: fake.seal(1),
  })
  // The attacker's own part: a poisoned vector, a takeover of honest ids, or a quota flood.
  const kind = round % 3
  const ownIds =
    kind === 1 ? (honest.claims.get(first) ?? []).slice(0, 2).map((claim) => claim.id) : undefined
  const own =
    kind === 1 && ownIds !== undefined && ownIds.length > 0
      ? attacker.ownDelta(ownIds.length, ownIds, Object.fromEntries(victims.map((v) => [v, 1_000])))
      : attacker.ownDelta(kind === 2 ? 20 : 1)
  let claims: readonly Claim[] = own.claims
  if (kind === 0) claims = [{ ...own.claims[0]!, vv: { [attacker.id]: 1, [first]: 2 ** 53 - 1 } }]
  parts.push({
    origin: attacker.id,
    gen: 1,
    full: false,
    after: own.fromSeq - 1,
    covered: own.toSeq,
    claims,
    seal: attacker.ownSeal(),
  })
  return parts
}

/** A sync session as an initiator: SYN, read ACK, hostile ACK2, for `rounds` rounds. */
export async function hostileSession(
  attacker: Attacker,
  peer: string,
  rounds: number,
  build: (round: number) => SyncPart[],
  onAck: (parts: readonly SyncPart[]) => void,
  decodeAck: (bytes: Uint8Array) => SyncFrame,
): Promise<number> {
  const connection = attacker.host.libp2p
    .getConnections()
    .find((c) => c.remotePeer.toString() === peer)
  if (connection === undefined) throw new Error(`attacker is not connected to ${peer}`)
  const stream = await connection.newStream(SYNC_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: 8 * 1024 * 1024 })
  let sent = 0
  let digest = {}
  try {
    for (let round = 0; round < rounds; round++) {
      await lp.write(
        encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.SYN, cluster: CLUSTER, digest }),
      )
      const ack = decodeAck((await lp.read()).subarray())
      if (ack.t !== MessageType.ACK) break
      onAck(ack.parts)
      digest = ack.want // claim to hold everything the victim holds: it sends nothing back
      await lp.write(
        encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: build(round) }),
      )
      sent++
    }
    await stream.close()
  } catch (err) {
    console.log(`hostile session ended after ${sent} rounds: ${(err as Error).message}`)
    stream.abort(new Error('hostile session ended'))
  }
  return sent
}

/** One raw hostile frame on a fresh stream: random, truncated, oversized prefix, wrong type. */
export async function hostileRawFrame(
  attacker: Attacker,
  peer: string,
  kind: number,
  random: Random,
): Promise<void> {
  const connection = attacker.host.libp2p
    .getConnections()
    .find((c) => c.remotePeer.toString() === peer)
  if (connection === undefined) return
  const stream = await connection.newStream(SYNC_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: 8 * 1024 * 1024 })
  try {
    switch (kind % 4) {
      case 0:
        await lp.write(randomBytes(random, 1 + Math.floor(random() * 500)))
        break
      case 1: {
        const syn = encodeSyncFrame({
          v: PROTOCOL_VERSION,
          t: MessageType.SYN,
          cluster: CLUSTER,
          digest: {},
        })
        await lp.write(syn.subarray(0, Math.floor(random() * syn.byteLength)))
        break
      }
      case 2:
        // A length prefix of 5 MiB (over the 4 MiB frame limit) and a few bytes of body.
        await lp.unwrap().sink([Uint8Array.from([0x80, 0x80, 0xc0, 0x02, 1, 2, 3])])
        return
      default:
        await lp.write(encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: [] }))
    }
    // Half-close: the victim reads the frame, then the end of the stream, and fails the session.
    await stream.closeWrite()
    await lp.read({ signal: AbortSignal.timeout(100) }).catch(() => undefined)
  } catch {
    // The victim closing or resetting the stream is the expected answer.
  } finally {
    stream.abort(new Error('done'))
  }
}

/**
 * Slowloris: a stream that announces a 4 MiB frame and then sends a byte at a time. The
 * victim's read timeout and frame budget end it; returns when the victim has dropped it.
 */
export async function slowloris(
  attacker: Attacker,
  peer: string,
  stopAfterMs: number,
): Promise<void> {
  const connection = attacker.host.libp2p
    .getConnections()
    .find((c) => c.remotePeer.toString() === peer)
  if (connection === undefined) return
  const stream = await connection.newStream(SYNC_PROTOCOL)
  const started = performance.now()
  async function* drip(): AsyncGenerator<Uint8Array> {
    yield Uint8Array.from([0x80, 0x80, 0x80, 0x02]) // 4 MiB
    while (performance.now() - started < stopAfterMs) {
      yield Uint8Array.from([0])
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  await stream.sink(drip()).catch(() => undefined)
  stream.abort(new Error('done'))
}
