import type { Digest, OriginState, RegistryNode, SyncPart } from '@grapevine/core'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type LengthPrefixedStream, lpStream } from 'it-length-prefixed-stream'
import { decodeSyncFrame, encodeSyncFrame } from './codec.js'
import { DecodeError, type DropReason, MessageTooLargeError, SyncError } from './errors.js'
import { budgetedLengthDecoder, createFrameBudget } from './frame-budget.js'
import type { Host } from './host.js'
import {
  MessageType,
  PROTOCOL_VERSION,
  SYNC_PROTOCOL,
  type SyncFrame,
  WIRE_LIMITS,
} from './messages.js'
import type { NetworkCounters } from './network-stats.js'
import { createRelayCheck, type RelayCheck } from './relay-check.js'
import type { SchemaDrops } from './schema.js'

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

function sameDigest(a: Digest, b: Digest): boolean {
  const origins = Object.keys(a)
  if (origins.length !== Object.keys(b).length) return false
  return origins.every((origin) => {
    const x = a[origin]!
    const y = Object.hasOwn(b, origin) ? b[origin] : undefined
    return y !== undefined && x.gen === y.gen && x.covered === y.covered && x.floor === y.floor
  })
}

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
      const frame = decodeSyncFrame(bytes.subarray(), maxFrameBytes, drops)
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
    try {
      while (rounds < maxRounds) {
        rounds++
        // Asked while the peer is back from dead and unheard: its ACK is its word on what it
        // holds, and it is newer than the fact that brought it back (see `originAdvert`).
        const asking = registry.awaitsOrigin(peer)
        const ours = replica.digest()
        const syn: SyncFrame = {
          v: PROTOCOL_VERSION,
          t: MessageType.SYN,
          cluster: host.cluster,
          digest: ours,
        }
        await write(session, encodeSyncFrame(syn, maxFrameBytes))
        const ack = await read(session)
        if (ack.t !== MessageType.ACK) throw new SyncError('type', `expected ACK, got ${ack.t}`)
        received += apply(ack.parts, peer)
        theirs = ack.want
        if (asking) {
          const own = Object.hasOwn(theirs, peer) ? theirs[peer] : undefined
          // No entry: the peer holds no claim of its own, so there is nothing to wait for.
          registry.originAdvert(
            peer,
            own?.gen ?? registry.liveness.gen(peer) ?? 0,
            own?.covered ?? 0,
          )
        }
        const reply = encodeParts(theirs, (parts) => ({
          v: PROTOCOL_VERSION,
          t: MessageType.ACK2,
          parts,
        }))
        await write(session, reply.bytes)
        sent += claimCount(reply.parts)
        const progressed = ack.parts.length > 0 || reply.parts.length > 0
        const moreForUs = replica
          .behind(theirs)
          .some((origin) => origin !== self && registry.knows(origin))
        if (!progressed || (!moreForUs && !stillAhead(theirs, reply.parts))) break
        // Neither digest moved over the last round: what we exchange is not being applied
        // (a bug or a hostile peer). Stop rather than resend the same megabytes.
        if (previous !== undefined && sameDigest(ours, previous.ours)) {
          if (sameDigest(theirs, previous.theirs)) break
        }
        previous = { ours, theirs }
      }
      await stream.close({ signal: AbortSignal.timeout(timeout) })
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
    counters.syncSession()
    log('synced with %s: %d rounds, %d claims in, %d out', peer, rounds, received, sent)
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
    let rounds = 0
    let received = 0
    try {
      const session = openSession(stream, peer)
      while (rounds < maxRounds) {
        let syn: SyncFrame
        try {
          syn = await read(session)
        } catch (err) {
          if (isEndOfStream(err) && rounds > 0) break // the initiator is done
          throw err
        }
        if (syn.t !== MessageType.SYN) throw new SyncError('type', `expected SYN, got ${syn.t}`)
        if (syn.cluster !== host.cluster) {
          throw new SyncError('cluster', `peer is in cluster "${syn.cluster}"`)
        }
        theirs = syn.digest
        const ack = encodeParts(theirs, (parts) => ({
          v: PROTOCOL_VERSION,
          t: MessageType.ACK,
          parts,
          want: replica.digest(),
        }))
        await write(session, ack.bytes)
        const ack2 = await read(session)
        if (ack2.t !== MessageType.ACK2) throw new SyncError('type', `expected ACK2, got ${ack2.t}`)
        received += apply(ack2.parts, peer)
        rounds++
      }
      await stream.close({ signal: AbortSignal.timeout(timeout) })
    } catch (err) {
      counters.drop(dropReason(err), peer, `sync session: ${(err as Error).message}`)
      stream.abort(err as Error)
      components.failed?.(peer)
      return
    }
    counters.syncSession()
    log('served %s: %d rounds, %d claims in', peer, rounds, received)
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
