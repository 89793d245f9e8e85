/**
 * The attacker of the hostile-input suite, in its own process (as it would be on its own
 * machine, so its CPU is not the victims'): a bare libp2p peer on 127.0.0.1 that learns the
 * honest state from one sync session, builds every hostile frame up front, and on `flood`
 * writes them at a steady pace over the real gossipsub and sync streams of the victim, with
 * raw frames and slowloris streams on the side. Driven over stdin/stdout (JSON lines): it
 * prints `ready`, then on the `flood` line runs the flood and prints `done` with its counts.
 */
import { createInterface } from 'node:readline'
import { seededRandom, within } from '@grapevine/core/testing'
import {
  createRecordSigner,
  decodeSyncFrame,
  encodeSyncFrame,
  MessageType,
  PROTOCOL_VERSION,
  SYNC_PROTOCOL,
} from '@grapevine/gossip'
import {
  type BareStream,
  createRawPeer,
  encodeTopicRpc,
  peerIdBytes,
  type RawStream,
} from '@grapevine/gossip/testing'
import {
  ack2Frame,
  type Counts,
  fakeOrigins,
  type HonestState,
  hostileParts,
  ownWriter,
  rawFrame,
  synFrame,
  topicPayloads,
  topicRpc,
} from './hostile-traffic.js'

export interface AttackerConfig {
  cluster: string
  seed: number
  victim: { peerId: string; address: string }
  /** The honest origins whose state is forged: [first, second]. */
  targets: [string, string]
  topicRpcs: number
  rpcSize: number
  syncFrames: number
  fakesPerFrame: number
  rawFrames: number
  slowloris: number
  durationMs: number
}

const config = JSON.parse(process.argv[2]!) as AttackerConfig
const send = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`)
setTimeout(() => process.exit(3), 10 * 60_000).unref() // never outlives its test for long

const random = seededRandom(config.seed)
const topic = `grapevine/${config.cluster}/${PROTOCOL_VERSION}`
const peer = await createRawPeer()
await peer.dial(config.victim.address)
const victim = config.victim.peerId
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// Learn the honest state as any member can: one sync session with the victim.
const honest: HonestState = { seals: new Map(), claims: new Map(), digest: {} }
{
  const session = await peer.open(victim, SYNC_PROTOCOL)
  await session.lp.write(
    encodeSyncFrame({
      v: PROTOCOL_VERSION,
      t: MessageType.SYN,
      cluster: config.cluster,
      digest: {},
    }),
  )
  const ack = decodeSyncFrame((await session.lp.read()).subarray(), 8 * 1024 * 1024)
  if (ack.t !== MessageType.ACK) throw new Error(`expected ACK, got ${ack.t}`)
  for (const part of ack.parts) {
    if (part.seal !== undefined) honest.seals.set(part.origin, part.seal)
    if (part.claims.length > 0) honest.claims.set(part.origin, [...part.claims])
  }
  honest.digest = ack.want
  await session.lp.write(ack2Frame([]))
  await session.stream.close()
}

// Everything hostile, built now.
const own = ownWriter(peer.peerId, {
  cluster: config.cluster,
  signer: createRecordSigner(peer.privateKey),
})
const fakes = await fakeOrigins(config.cluster, 100)
const planned: Counts = {}
const payloads = topicPayloads(random, own, honest, config.targets[0])
const victimFrom = peerIdBytes(config.targets[0])
const rpcs = Array.from({ length: config.topicRpcs }, (_, i) =>
  topicRpc(
    peer,
    topic,
    payloads,
    random,
    BigInt(i * config.rpcSize + 1),
    config.rpcSize,
    planned,
    victimFrom,
  ),
)
const partCounts: Counts = {}
let partsPlanned = 0
const ack2s = Array.from({ length: config.syncFrames }, (_, round) => {
  const parts = hostileParts(
    round,
    random,
    own,
    honest,
    fakes,
    config.targets,
    config.fakesPerFrame,
    partCounts,
  )
  partsPlanned += parts.length
  return { bytes: ack2Frame(parts), parts: parts.length }
})
const syn = synFrame(config.cluster, honest.digest)
const raws = Array.from({ length: config.rawFrames }, (_, i) => rawFrame(i, random, config.cluster))
send({ event: 'ready', peerId: peer.peerId, learned: [...honest.seals.keys()] })

const cutReasons: Record<string, number> = {}
const counts = {
  topicMessages: 0,
  topicRpcs: 0,
  syncFrames: 0,
  syncParts: 0,
  syncSessions: 0,
  syncSessionsCut: 0,
  rawFrames: 0,
  slowloris: 0,
  slowlorisDropped: 0,
}

/** Calls `step(i)` for i in [0, total) at an even pace over the flood's duration. */
async function paced(total: number, step: (i: number) => Promise<void>): Promise<void> {
  const started = performance.now()
  for (let i = 0; i < total; i++) {
    const due = started + (i * config.durationMs) / total
    const wait = due - performance.now()
    if (wait > 1) await sleep(wait)
    await step(i)
  }
}

async function topicFlood(): Promise<void> {
  const stream = await peer.open(victim, '/meshsub/1.1.0')
  await stream.writeFrames([encodeTopicRpc({ subscribe: [topic] })])
  // The victim's own RPCs to us are read and dropped, so its writes never stall.
  void (async () => {
    for await (const _ of stream.stream.source) {
      /* drain */
    }
  })().catch(() => undefined)
  await paced(rpcs.length, async (i) => {
    await stream.writeFrames([rpcs[i]!])
    counts.topicRpcs++
    counts.topicMessages += config.rpcSize
  })
}

/** Sessions as an initiator: SYN and a hostile ACK2 per round, ACKs read and dropped. */
async function syncFlood(): Promise<void> {
  const perSession = 300 // under the victim's 1,000 rounds and its 30 s session deadline
  let session: { stream: RawStream; rounds: number; broken: boolean } | undefined
  const open = async () => {
    const stream = await peer.open(victim, SYNC_PROTOCOL)
    const current = { stream, rounds: 0, broken: false }
    counts.syncSessions++
    void (async () => {
      try {
        for (;;) await stream.lp.read()
      } catch (err) {
        current.broken = true
        const reason = (err as Error).message.slice(0, 60)
        cutReasons[reason] = (cutReasons[reason] ?? 0) + 1
      }
    })()
    return current
  }
  await paced(ack2s.length, async (i) => {
    if (session === undefined || session.broken || session.rounds >= perSession) {
      if (session?.broken) counts.syncSessionsCut++
      if (session !== undefined && !session.broken)
        await session.stream.stream.close().catch(() => undefined)
      session = await open().catch(() => undefined)
      if (session === undefined) return
    }
    try {
      await session.stream.writeFrames([syn, ack2s[i]!.bytes])
      session.rounds++
      counts.syncFrames++
      counts.syncParts += ack2s[i]!.parts
    } catch {
      session.broken = true
    }
  })
  await session?.stream.stream.close().catch(() => undefined)
}

async function rawFlood(): Promise<void> {
  await paced(raws.length, async (i) => {
    try {
      if (i % 4 === 3) {
        // A length prefix of 5 MiB, over the 4 MiB frame limit, and a few bytes of body.
        const bare = await peer.openBare(victim, SYNC_PROTOCOL)
        counts.rawFrames++
        await bare.sink([Uint8Array.from([0x80, 0x80, 0xc0, 0x02, 1, 2, 3])])
        bare.abort(new Error('done'))
        return
      }
      const stream = await peer.open(victim, SYNC_PROTOCOL)
      counts.rawFrames++
      await stream.lp.write(raws[i]!)
      await stream.stream.closeWrite()
      await stream.lp.read({ signal: AbortSignal.timeout(200) }).catch(() => undefined)
      stream.stream.abort(new Error('done'))
    } catch {
      // The victim closing or resetting the stream is the expected answer.
    }
  })
}

/** Streams that announce a 1 MiB frame and then send a byte every 500 ms, reopened when cut. */
async function slowlorisFlood(end: number): Promise<void> {
  const one = async () => {
    while (performance.now() < end) {
      let stream: BareStream
      try {
        stream = await peer.openBare(victim, SYNC_PROTOCOL)
      } catch {
        await sleep(200)
        continue
      }
      counts.slowloris++
      async function* drip(): AsyncGenerator<Uint8Array> {
        yield Uint8Array.from([0x80, 0x80, 0x40]) // 1 MiB
        while (performance.now() < end) {
          yield Uint8Array.from([0])
          await sleep(500)
        }
      }
      // Bounded by the flood's end whatever the victim does (the flood must stop by itself).
      const cut = await within(
        stream.sink(drip()).then(
          () => false,
          () => true,
        ),
        'the slowloris stream',
        Math.max(0, end - performance.now()) + 1_000,
      ).catch(() => false)
      if (cut) counts.slowlorisDropped++
      stream.abort(new Error('done'))
    }
  }
  await Promise.all(Array.from({ length: config.slowloris }, one))
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() === 'flood') {
    const started = performance.now()
    const progress = setInterval(
      () =>
        process.stderr.write(
          `attacker at ${Math.round(performance.now() - started)} ms: ${JSON.stringify(counts)}\n`,
        ),
      5_000,
    )
    // Bounded: whatever the victim does to our streams, the flood reports within 10 s of its end.
    const finished = await within(
      Promise.all([
        topicFlood(),
        syncFlood(),
        rawFlood(),
        slowlorisFlood(started + config.durationMs),
      ]),
      'the flood',
      config.durationMs + 10_000,
    ).then(
      () => true,
      () => false,
    )
    clearInterval(progress)
    send({
      event: 'done',
      ms: Math.round(performance.now() - started),
      counts,
      topicKinds: planned,
      partKinds: partCounts,
      partsPlanned,
      cutReasons,
      finished,
    })
  } else if (line.trim() === 'stop') {
    await peer.stop().catch(() => undefined)
    process.exit(0)
  }
})
