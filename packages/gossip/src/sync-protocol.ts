import type { Digest, OriginState, RegistryNode, SyncPart } from '@grapevine/core'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type LengthPrefixedStream, lpStream } from 'it-length-prefixed-stream'
import { decodeSyncFrame, encodeSyncFrame } from './codec.js'
import { DecodeError, type DropReason, MessageTooLargeError, SyncError } from './errors.js'
import { budgetedLengthDecoder, createFrameBudget } from './frame-budget.js'
import type { Host } from './host.js'
import {
  type AckMessage,
  MessageType,
  PROTOCOL_VERSION,
  SYNC_PROTOCOL,
  type SyncFrame,
  WIRE_LIMITS,
} from './messages.js'
import type { NetworkCounters } from './network-stats.js'
import { createRelayCheck, type RelayCheck } from './relay-check.js'
import {
  type EncodedReply,
  type ForecastTally,
  forecastFits,
  type ReplyForecast,
} from './reply-forecast.js'
import type { SchemaDrops } from './schema.js'
import { behind, sameDigest, withParts } from './sync-digest.js'

/**
 * Anti-entropy over a direct stream (`/grapevine/sync/2.0.0`), Scuttlebutt-style:
 *
 *   initiator                          responder
 *   SYN  {cluster, digest}        →
 *                                 ←    ACK  {parts the initiator lacks, want: own digest}
 *   ACK2 {parts the responder lacks} →
 *   (repeat while either side was cut at its byte budget, then close)
 *
 * Each reply is cut at `budgetBytes` at a claim boundary and declares only what it carries,
 * so the receiver never skips a seq. Rounds repeat at once on the same stream until neither
 * side is ahead, which is how a late joiner pulls a large registry in a few round trips.
 */

export interface SyncProtocolInit {
  cluster: string
  /** Estimated claim bytes per ACK or ACK2. @default 1 MiB */
  budgetBytes?: number
  /** Largest frame read or written (see `WIRE_LIMITS.syncFrameBytes`). @default 4 MiB */
  maxFrameBytes?: number
  /** Limit on the dial and on every read and write of a session, in ms. @default 5_000 */
  timeout?: number
  /** Most rounds in one session; the next session continues. @default 1_000 */
  maxRounds?: number
  /** Concurrent sync streams per connection, each way. @default 4 */
  maxStreams?: number
  /**
   * Limit on a whole session, in ms, whatever its rounds: a peer that sends a frame just
   * before each read timeout cannot hold a session (and its buffers) open for 1,000 rounds.
   * A 100k-instance join takes about a second. @default 30_000
   */
  sessionTimeout?: number
  /**
   * Sync frame bytes held in flight at once, over every stream and peer (see frame-budget.ts).
   * @default 64 MiB (sixteen full frames)
   */
  inflightBytes?: number
  /** The most of `inflightBytes` one peer may hold (two full frames). @default 8 MiB */
  inflightBytesPerPeer?: number
}

export interface SyncProtocolComponents {
  host: Host
  registry: RegistryNode
  counters: NetworkCounters
  /** Checks on parts relayed by a node other than their origin. @default from the host */
  relayCheck?: RelayCheck
  /** A session ended cleanly; `digest` is what the peer advertised in it. */
  completed?(peer: string, digest: Digest): void
  /** A session with `peer` failed (either role). */
  failed?(peer: string): void
}

export interface SyncResult {
  readonly peer: string
  readonly rounds: number
  /** Claims stored here. */
  readonly received: number
  /** Claims sent to the peer. */
  readonly sent: number
}

export interface SyncProtocol {
  start(): Promise<void>
  stop(): Promise<void>
  /** Runs one session with a connected peer; rejects with `SyncError` (already counted). */
  sync(peer: string, signal?: AbortSignal): Promise<SyncResult>
  /** True while `peer` runs a session with us (we respond): a second one would repeat it. */
  serving(peer: string): boolean
}

/** Below this the budget cannot shrink further to fit a frame (one claim is at most ~32 KiB). */
const MIN_BUDGET_BYTES = 64 * 1024

function dropReason(err: unknown): DropReason {
  if (err instanceof DecodeError || err instanceof SyncError) return err.reason
  const name = (err as Error | undefined)?.name
  if (name === 'AbortError' || name === 'TimeoutError') return 'timeout'
  if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError')
    return 'oversize'
  return 'stream'
}

const isEndOfStream = (err: unknown): boolean =>
  (err as Error | undefined)?.name === 'UnexpectedEOFError'

/**
 * Lets what was just written leave before a long synchronous step. `write` resolves once the
 * muxer has queued the bytes; Noise encryption and the socket write run on later turns of the
 * event loop, so an apply started at once (~100 ms for a 1 MiB part) held back the SYN it was
 * meant to overlap with: the two sides of a 100k join took turns instead of working at once
 * (a CPU profile showed each idle while the other ran). One turn is enough: the chain from the
 * muxer to the socket is microtasks and one write to the socket.
 */
const letWritesLeave = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function claimCount(parts: readonly SyncPart[]): number {
  return parts.reduce((sum, part) => sum + part.claims.length, 0)
}

export function createSyncProtocol(
  init: SyncProtocolInit,
  components: SyncProtocolComponents,
): SyncProtocol {
  const { host, registry, counters } = components
  const replica = registry.replica
  const self = host.peerId
  const budgetBytes = init.budgetBytes ?? 1024 * 1024
  const maxFrameBytes = init.maxFrameBytes ?? WIRE_LIMITS.syncFrameBytes
  const timeout = init.timeout ?? 5_000
  const maxRounds = init.maxRounds ?? 1_000
  const maxStreams = init.maxStreams ?? 4
  const sessionTimeout = init.sessionTimeout ?? 30_000
  const frameBudget = createFrameBudget(
    init.inflightBytes ?? 64 * 1024 * 1024,
    init.inflightBytesPerPeer ?? 8 * 1024 * 1024,
  )
  const relayCheck = components.relayCheck ?? createRelayCheck(host.cluster, host.verifier)
  const log = host.libp2p.logger.forComponent('grapevine:sync')

  /** A session's stream: frames bounded in size, in global in-flight bytes and in time. */
  interface Session {
    readonly lp: LengthPrefixedStream<Stream>
    readonly held: { bytes: number }
    readonly deadline: AbortSignal
    readonly peer: string
  }

  function openSession(stream: Stream, peer: string): Session {
    const held = { bytes: 0 }
    const lp = lpStream(stream, {
      maxDataLength: maxFrameBytes,
      lengthDecoder: budgetedLengthDecoder(frameBudget, peer, maxFrameBytes, held),
    })
    return { lp, held, deadline: AbortSignal.timeout(sessionTimeout), peer }
  }

  const opSignal = (session: Session): AbortSignal =>
    AbortSignal.any([AbortSignal.timeout(timeout), session.deadline])

  /**
   * One buffer, grown to the largest frame read and reused, into which a frame that arrived in
   * several chunks is joined for decoding. A fresh buffer per frame cost more than the copy:
   * on the reference VM, touching new memory runs at ~4 ns a byte (3 ms per 700 KB frame).
   * Safe to share: decoding is synchronous and copies everything out (see codec.ts).
   */
  let joined = new Uint8Array(0)
  function contiguous(chunks: Iterable<Uint8Array> & { byteLength: number }): Uint8Array {
    let first: Uint8Array | undefined
    let count = 0
    for (const chunk of chunks) {
      first ??= chunk
      if (++count > 1) break
    }
    if (count <= 1) return first ?? new Uint8Array(0)
    if (joined.byteLength < chunks.byteLength) {
      joined = new Uint8Array(
        Math.min(maxFrameBytes, Math.max(chunks.byteLength, 2 * joined.byteLength)),
      )
    }
    let offset = 0
    for (const chunk of chunks) {
      joined.set(chunk, offset)
      offset += chunk.byteLength
    }
    return joined.subarray(0, offset)
  }

  async function read(session: Session): Promise<SyncFrame> {
    try {
      const bytes = await session.lp.read({ signal: opSignal(session) })
      counters.received(bytes.byteLength)
      // Relayed parts of origins we never heard from are refused before their claims are
      // validated: refusing costs nothing, validating ~10 µs a claim (see apply()).
      const drops: SchemaDrops = {
        claims: 0,
        admit: (origin) => origin === session.peer || registry.knows(origin),
        refused: 0,
      }
      const frame = decodeSyncFrame(contiguous(bytes), maxFrameBytes, drops)
      if (drops.refused! > 0) {
        counters.drop(
          'origin',
          session.peer,
          `${drops.refused} relayed parts of origins that never spoke to us`,
          drops.refused,
        )
      }
      if (drops.claims > 0) {
        counters.drop(
          'schema',
          session.peer,
          `${drops.claims} invalid claims cut from their parts`,
          drops.claims,
        )
      }
      return frame
    } finally {
      frameBudget.release(session.peer, session.held.bytes)
      session.held.bytes = 0
    }
  }

  /** The next frame, or undefined if the peer ended the session cleanly. */
  async function readOrEnd(session: Session): Promise<SyncFrame | undefined> {
    try {
      return await read(session)
    } catch (err) {
      if (isEndOfStream(err)) return undefined
      throw err
    }
  }

  async function write(session: Session, bytes: Uint8Array): Promise<void> {
    counters.sent(bytes.byteLength)
    await session.lp.write(bytes, { signal: opSignal(session) })
  }

  /** Encodes a reply with parts for `peer`, halving the budget if the estimate undershot. */
  function encodeParts(
    peer: Digest,
    build: (parts: SyncPart[]) => SyncFrame,
  ): { bytes: Uint8Array; parts: SyncPart[] } {
    for (let budget = budgetBytes; ; budget = Math.floor(budget / 2)) {
      const parts = replica.partsFor(peer, budget, WIRE_LIMITS.partsPerFrame)
      try {
        return { bytes: encodeSyncFrame(build(parts), maxFrameBytes), parts }
      } catch (err) {
        if (!(err instanceof MessageTooLargeError) || budget <= MIN_BUDGET_BYTES) throw err
      }
    }
  }

  function apply(parts: readonly SyncPart[], peer: string): number {
    let applied = 0
    for (const received of parts) {
      if (received.origin === self) continue // only we write our origin; the registry drops it too
      // Noise authenticated `peer`: its own parts are its own writes. Anyone else's are relayed.
      const relayed = received.origin !== peer
      let part = received
      if (relayed && !registry.knows(received.origin)) {
        // Checked before any signature: refusing costs nothing, verifying 78 µs a record.
        counters.drop('origin', peer, `relayed part of ${received.origin}, which never spoke to us`)
        continue
      }
      if (relayed) {
        const verdict = relayCheck.check(received)
        if (!verdict.ok) {
          counters.drop(verdict.reason, peer, verdict.detail, Math.max(1, received.claims.length))
          continue
        }
        if (verdict.forged > 0) {
          counters.drop(
            'signature',
            peer,
            `claims of ${received.origin} not signed by it`,
            verdict.forged,
          )
        }
        part = verdict.part
      }
      try {
        const result = registry.applyPart(part, { relayed })
        applied += result.applied
        if (result.overQuota > 0) quotaDrop(result.overQuota, part.origin, peer)
        if (result.unadmitted === true) {
          counters.drop('origin', peer, `relayed part of ${part.origin}, which never spoke to us`)
        }
      } catch (err) {
        counters.drop('schema', peer, `part rejected by the registry: ${(err as Error).message}`)
      }
    }
    return applied
  }

  // Over-quota drops also warn (at most once a minute per origin): an operator must see them.
  const warned = new Map<string, number>()
  function quotaDrop(count: number, origin: string, peer: string): void {
    counters.drop('quota', peer, `${count} claims of ${origin} over its quota`, count)
    const last = warned.get(origin)
    const time = Date.now()
    if (last !== undefined && time - last < 60_000) return
    if (warned.size >= 1_024) warned.clear()
    warned.set(origin, time)
    log.error(
      'dropped %d claims of %s: over the per-origin quota or the cap on origins',
      count,
      origin,
    )
  }

  /** True if the peer, once it has applied `sent`, still lacks something we hold. */
  function stillAhead(theirs: Digest, sent: readonly SyncPart[]): boolean {
    if (sent.length === 0) return false
    // Null prototype: origin ids are data from the network.
    const estimate: Record<string, OriginState> = Object.assign(Object.create(null), theirs)
    for (const part of sent) {
      estimate[part.origin] = { gen: part.gen, covered: part.covered, floor: 0 }
    }
    return replica.partsFor(estimate, 1).length > 0
  }

  /**
   * The reply to the peer's next frame, encoded now (see reply-forecast.ts): for the digest it
   * will hold once it has applied `sent`, which answered its digest `theirs`. Undefined unless
   * `sent` leaves it still behind us (the reply was cut at its budget).
   */
  async function forecastAfter(
    peer: string,
    theirs: Digest,
    sent: readonly SyncPart[],
    encode: (digest: Digest, ours: Digest) => EncodedReply,
  ): Promise<ReplyForecast | undefined> {
    if (!stillAhead(theirs, sent)) return undefined
    const predicted = withParts(theirs, sent, peer)
    await letWritesLeave() // what it follows goes first
    const ours = replica.digest()
    const reply = encode(predicted, ours)
    return reply.parts.length > 0 ? { theirs: predicted, ours, reply } : undefined
  }

  async function initiate(peer: string, signal?: AbortSignal): Promise<SyncResult> {
    const dialSignal = AbortSignal.timeout(timeout)
    const stream = await host.libp2p.dialProtocol(peerIdFromString(peer), SYNC_PROTOCOL, {
      signal: signal === undefined ? dialSignal : AbortSignal.any([signal, dialSignal]),
    })
    const session = openSession(stream, peer)
    let received = 0
    let sent = 0
    let rounds = 0
    let theirs: Digest = {}
    let previous: { ours: Digest; theirs: Digest } | undefined
    /** Asked while the peer was back from dead and unheard, when the last SYN left. */
    let asking = false
    const syn = (digest: Digest): Uint8Array => {
      // Asked while the peer is back from dead and unheard: the ACK to this SYN is its word
      // on what it holds, and it is newer than the fact that brought it back (`originAdvert`).
      asking = registry.awaitsOrigin(peer)
      return encodeSyncFrame(
        { v: PROTOCOL_VERSION, t: MessageType.SYN, cluster: host.cluster, digest },
        maxFrameBytes,
      )
    }
    /** Applies an ACK's parts, then takes the peer's word on its own origin if we asked. */
    const take = (ack: AckMessage, askedFor: boolean): void => {
      received += apply(ack.parts, peer)
      if (!askedFor) return
      const own = Object.hasOwn(ack.want, peer) ? ack.want[peer] : undefined
      // No entry: the peer holds no claim of its own, so there is nothing to wait for.
      registry.originAdvert(peer, own?.gen ?? registry.liveness.gen(peer) ?? 0, own?.covered ?? 0)
    }
    const encodeAck2 = (digest: Digest): EncodedReply =>
      encodeParts(digest, (parts) => ({ v: PROTOCOL_VERSION, t: MessageType.ACK2, parts }))
    let forecast: ReplyForecast | undefined
    const forecasts: ForecastTally = { used: 0, missed: 0 }
    /** The last SYN said we hold more than applying its ACK gave us (see below). */
    let overstated = false
    try {
      await write(session, syn(replica.digest()))
      for (;;) {
        rounds++
        const askedFor = asking
        const ack = await read(session)
        if (ack.t !== MessageType.ACK) throw new SyncError('type', `expected ACK, got ${ack.t}`)
        theirs = ack.want
        // What we hold (every earlier ACK applied), and what we will hold once this one is,
        // from its parts' own declarations.
        const ours = replica.digest()
        // Our reply depends on their digest only, not on what their ACK brings us.
        const reply = forecastFits(forecast, theirs, ours, forecasts) ?? encodeAck2(theirs)
        forecast = undefined
        sent += claimCount(reply.parts)
        const next = withParts(ours, ack.parts, self)
        const progressed = ack.parts.length > 0 || reply.parts.length > 0 || overstated
        const moreForUs = behind(
          next,
          theirs,
          (origin) => origin !== self && (origin === peer || registry.knows(origin)),
        )
        let more =
          rounds < maxRounds && progressed && (moreForUs || stillAhead(theirs, reply.parts))
        // Neither digest moved over the last round: what we exchange is not being applied
        // (a bug or a hostile peer). Stop rather than resend the same megabytes. What we hold,
        // not what we said: a part that never applies makes the SYNs alternate between
        // claiming it and not, which would never look the same two rounds running.
        if (previous !== undefined && sameDigest(ours, previous.ours)) {
          if (sameDigest(theirs, previous.theirs)) more = false
        }
        previous = { ours, theirs }
        if (!more) {
          // The last round: apply, then reply, in that order (leave() relies on the ACK2 of
          // its barrier session going out after what arrived before it).
          take(ack, askedFor)
          await write(session, reply.bytes)
          break
        }
        // More rounds follow: our ACK2 and the next SYN go out before this ACK is applied, so
        // the peer encodes its next reply while we validate and apply this one, and a join
        // takes as long as the slower side, not the sum of both.
        await write(session, reply.bytes)
        await write(session, syn(next))
        await letWritesLeave()
        take(ack, askedFor)
        // A part that did not apply as declared (refused, trimmed, over quota) leaves us behind
        // what that SYN said: the peer's next reply skips it, so the round after that asks
        // again with what we really hold (or the session ends on the unchanged digests).
        overstated = behind(replica.digest(), next, () => true)
        // Our next ACK2, encoded while the peer decodes this one.
        forecast = await forecastAfter(peer, theirs, reply.parts, encodeAck2)
      }
      await stream.close({ signal: AbortSignal.timeout(timeout) })
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
    counters.syncSession()
    log(
      'synced with %s: %d rounds, %d claims in, %d out, replies forecast %d (%d missed)',
      peer,
      rounds,
      received,
      sent,
      forecasts.used,
      forecasts.missed,
    )
    components.completed?.(peer, theirs)
    return { peer, rounds, received, sent }
  }

  /** Inbound sessions in progress, per peer. */
  const inbound = new Map<string, number>()

  async function respond(stream: Stream, peer: string): Promise<void> {
    inbound.set(peer, (inbound.get(peer) ?? 0) + 1)
    try {
      await serve(stream, peer)
    } finally {
      const left = (inbound.get(peer) ?? 1) - 1
      if (left === 0) inbound.delete(peer)
      else inbound.set(peer, left)
    }
  }

  async function serve(stream: Stream, peer: string): Promise<void> {
    let theirs: Digest | undefined
    const forecasts: ForecastTally = { used: 0, missed: 0 }
    let rounds = 0
    let received = 0
    try {
      const session = openSession(stream, peer)
      const encodeAck = (digest: Digest, want: Digest): EncodedReply =>
        encodeParts(digest, (parts) => ({ v: PROTOCOL_VERSION, t: MessageType.ACK, parts, want }))
      /** The last ACK sent, and the SYN it answered. */
      let last: { theirs: Digest; parts: readonly SyncPart[] } | undefined
      let forecast: ReplyForecast | undefined
      const answer = async (syn: SyncFrame, want: Digest): Promise<void> => {
        if (syn.t !== MessageType.SYN) throw new SyncError('type', `expected SYN, got ${syn.t}`)
        if (syn.cluster !== host.cluster) {
          throw new SyncError('cluster', `peer is in cluster "${syn.cluster}"`)
        }
        theirs = syn.digest
        const ack = forecastFits(forecast, theirs, want, forecasts) ?? encodeAck(theirs, want)
        forecast = undefined
        await write(session, ack.bytes)
        last = { theirs, parts: ack.parts }
      }
      await answer(await read(session), replica.digest())
      for (;;) {
        // Our next ACK, encoded while the initiator decodes this one (our `want` as it is now).
        if (last !== undefined)
          forecast = await forecastAfter(peer, last.theirs, last.parts, encodeAck)
        const ack2 = await read(session)
        if (ack2.t !== MessageType.ACK2) throw new SyncError('type', `expected ACK2, got ${ack2.t}`)
        rounds++
        let more = false
        try {
          // The initiator's next SYN (or its end of the session) follows its ACK2 at once, so
          // it is read and answered before the ACK2 is applied: the initiator encodes its
          // next ACK2 while we validate and apply this one. Our `want` is our digest as it
          // will be once this ACK2's parts are applied, from the parts' own declarations.
          const next = rounds < maxRounds ? await readOrEnd(session) : undefined
          if (next !== undefined) {
            await answer(next, withParts(replica.digest(), ack2.parts, self))
            more = true
            if (ack2.parts.length > 0) await letWritesLeave()
          }
        } finally {
          // Applied whatever came after it: a leaving peer's ACK2 is its barrier's last word.
          received += apply(ack2.parts, peer)
        }
        if (!more) break
      }
      await stream.close({ signal: AbortSignal.timeout(timeout) })
    } catch (err) {
      counters.drop(dropReason(err), peer, `sync session: ${(err as Error).message}`)
      stream.abort(err as Error)
      components.failed?.(peer)
      return
    }
    counters.syncSession()
    log(
      'served %s: %d rounds, %d claims in, replies forecast %d (%d missed)',
      peer,
      rounds,
      received,
      forecasts.used,
      forecasts.missed,
    )
    if (theirs !== undefined) components.completed?.(peer, theirs)
  }

  return {
    async start() {
      await host.libp2p.handle(
        SYNC_PROTOCOL,
        ({ stream, connection }) => void respond(stream, connection.remotePeer.toString()),
        { maxInboundStreams: maxStreams, maxOutboundStreams: maxStreams },
      )
    },
    async stop() {
      await host.libp2p.unhandle(SYNC_PROTOCOL)
    },
    serving: (peer) => inbound.has(peer),
    async sync(peer, signal) {
      try {
        return await initiate(peer, signal)
      } catch (err) {
        const reason = dropReason(err)
        counters.drop(reason, peer, `sync session: ${(err as Error).message}`)
        log('sync with %s failed: %s', peer, (err as Error).message)
        components.failed?.(peer)
        throw err instanceof SyncError ? err : new SyncError(reason, (err as Error).message)
      }
    },
  }
}
