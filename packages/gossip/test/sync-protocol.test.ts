import type { RegistryNode } from '@grapevine/core'
import { waitFor, within } from '@grapevine/core/testing'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from 'it-length-prefixed-stream'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import {
  encodeSyncFrame,
  type Host,
  MessageType,
  PROTOCOL_VERSION,
  SYNC_PROTOCOL,
} from '../src/index.js'
import { createNetworkCounters } from '../src/network-stats.js'
import { createSyncProtocol, type SyncProtocol } from '../src/sync-protocol.js'
import {
  bareHost,
  bareRegistry,
  service,
  startNode,
  stopAfterEach,
  type TestNode,
} from './helpers.js'

/** A bare host with a registry and the sync protocol, no pubsub channel: sync alone. */
async function syncOnly(budgetBytes: number): Promise<{
  host: Host
  registry: RegistryNode
  protocol: SyncProtocol
}> {
  const host = await bareHost()
  const registry = bareRegistry(host)
  const counters = createNetworkCounters(host.log)
  const protocol = createSyncProtocol(
    { cluster: 'test', budgetBytes },
    { host, registry, counters },
  )
  await host.start()
  await protocol.start()
  return { host, registry, protocol }
}

function publishMany(node: TestNode, name: string, count: number): void {
  for (let i = 0; i < count; i++) node.node.publish(node.registry.register(service(name, i)).delta)
}

describe('sync protocol', () => {
  const running = stopAfterEach()

  it('brings a fresh node up to date in several budget-bound rounds, both ways', async () => {
    const a = await startNode({ gossip: { sync: { budgetBytes: 4_096 } } })
    running.nodes.push(a)
    publishMany(a, 'bulk', 300)
    const fresh = await syncOnly(4_096)
    running.hosts.push(fresh.host)
    // The fresh node has writes of its own that A lacks: ACK2 carries them back.
    for (let i = 0; i < 40; i++) fresh.registry.register(service('reverse', i))

    await fresh.host.dial(a.address)
    const start = performance.now()
    const result = await fresh.protocol.sync(a.id)
    const took = performance.now() - start
    console.log(
      `sync: ${result.rounds} rounds, ${result.received} in, ${result.sent} out, ${took.toFixed(0)} ms`,
    )

    expect(result.rounds).toBeGreaterThan(5)
    expect(result.received).toBe(300)
    expect(result.sent).toBe(40)
    expect(fresh.registry.getService('bulk')).toHaveLength(300)
    expect(a.registry.getService('reverse')).toHaveLength(40)
    expect(fresh.registry.replica.digest()[a.id]).toEqual(a.registry.replica.digest()[a.id])
    await waitFor('A counts the session it served', () => a.node.stats().syncSessions >= 1, {
      timeoutMs: 5_000,
    })
  })

  it('a late joiner is caught up when ready resolves', async () => {
    const a = await startNode()
    running.nodes.push(a)
    publishMany(a, 'catalog', 500)
    const start = performance.now()
    const b = await startNode({ bootstrap: [a] })
    running.nodes.push(b)
    await within(b.node.ready, 'B ready', 5_000)
    console.log(
      `late joiner ready with 500 instances after ${(performance.now() - start).toFixed(0)} ms`,
    )
    expect(b.registry.getService('catalog')).toHaveLength(500)
  })

  it('drops garbage frames, a wrong cluster and a silent peer, counts them, keeps serving', async () => {
    const a = await startNode({ gossip: { sync: { timeout: 300 } } })
    running.nodes.push(a)
    a.node.publish(a.registry.register(service('kept', 1)).delta)
    const raw = await bareHost()
    running.hosts.push(raw)
    await raw.start()
    await raw.dial(a.address)
    const target = peerIdFromString(a.id)

    async function session(
      send: (lp: ReturnType<typeof lpStream>) => Promise<void>,
    ): Promise<void> {
      const stream = await raw.libp2p.dialProtocol(target, SYNC_PROTOCOL)
      const lp = lpStream(stream)
      await send(lp).catch(() => undefined)
      // The responder aborts the stream or times out; reading observes that either way.
      await lp.read({ signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
    }

    const dropped = (reason: string): number => a.node.stats().dropped[reason] ?? 0
    await session((lp) => lp.write(new Uint8Array(64).fill(0xc1)))
    await waitFor('a decode drop', () => dropped('decode') >= 1, { timeoutMs: 5_000 })

    await session((lp) =>
      lp.write(new Packr({ useRecords: false }).pack({ v: PROTOCOL_VERSION, t: MessageType.ACK2 })),
    )
    await waitFor('a schema drop', () => dropped('schema') >= 1, { timeoutMs: 5_000 })

    await session((lp) =>
      lp.write(
        encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.SYN, cluster: 'other', digest: {} }),
      ),
    )
    await waitFor('a cluster drop', () => dropped('cluster') >= 1, { timeoutMs: 5_000 })

    await session(async (lp) => {
      // A length prefix announcing 16 MiB: refused before a byte of it is buffered.
      await lp.unwrap().sink([new Uint8Array([0x80, 0x80, 0x80, 0x08])])
    })
    await waitFor('an oversize drop', () => dropped('oversize') >= 1, { timeoutMs: 5_000 })

    await session(async () => undefined) // opens, says nothing
    await waitFor(
      'a silent peer dropped',
      () => dropped('timeout') >= 1 || dropped('stream') >= 1,
      { timeoutMs: 5_000 },
    )

    // Still serving: a real node syncs with it and gets its instance.
    const b = await startNode({ bootstrap: [a] })
    running.nodes.push(b)
    await within(b.node.ready, 'B ready', 5_000)
    await waitFor('B gets A’s instance', () => b.registry.getService('kept').length === 1, {
      timeoutMs: 5_000,
    })
  })

  it('a peer that answers just within each read timeout cannot hold a session past its deadline (finding 7)', async () => {
    // Before: a frame every 4.5 s kept a session (and its buffers) open for up to 1,000 rounds.
    const readTimeout = 400
    const a = await startNode({ gossip: { sync: { timeout: readTimeout, sessionTimeout: 1_000 } } })
    // The attack: each reply comes once 5/8 of the responder's read timeout has passed since
    // the last frame, just inside it, so only the session deadline can end the session.
    let lastFrameAt = 0
    const answerLate = () =>
      waitFor(
        '5/8 of the read timeout since the last frame',
        () => performance.now() - lastFrameAt >= readTimeout * 0.625,
        { timeoutMs: readTimeout },
      )
    running.nodes.push(a)
    const raw = await bareHost()
    running.hosts.push(raw)
    await raw.start()
    await raw.dial(a.address)
    const stream = await raw.libp2p.dialProtocol(peerIdFromString(a.id), SYNC_PROTOCOL)
    const lp = lpStream(stream)
    const started = performance.now()
    let rounds = 0
    const syn = encodeSyncFrame({
      v: PROTOCOL_VERSION,
      t: MessageType.SYN,
      cluster: 'test',
      digest: {},
    })
    const ack2 = encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: [] })
    try {
      for (; rounds < 100; rounds++) {
        await lp.write(syn)
        await lp.read({ signal: AbortSignal.timeout(2_000) })
        lastFrameAt = performance.now()
        await answerLate()
        await lp.write(ack2)
        lastFrameAt = performance.now()
        await answerLate()
      }
    } catch {
      // The responder ended the session.
    }
    const held = performance.now() - started
    expect(rounds).toBeLessThan(100)
    expect(held).toBeGreaterThan(900)
    expect(held).toBeLessThan(3_000)
    await waitFor('a timeout drop', () => (a.node.stats().dropped.timeout ?? 0) >= 1)
  })

  it('sync repairs what pubsub lost: a write made while the peer was unreachable', async () => {
    const a = await startNode({ timings: { syncInterval: 500 } })
    const b = await startNode({ bootstrap: [a], timings: { syncInterval: 500 } })
    running.nodes.push(a, b)
    await within(Promise.all([a.node.ready, b.node.ready]), 'ready', 5_000)
    // Written to the registry but never published: only anti-entropy can carry it.
    a.registry.register(service('silent', 1))
    const started = performance.now()
    await waitFor('B gets it by sync', () => b.registry.getService('silent').length === 1, {
      timeoutMs: 5_000,
    })
    const took = performance.now() - started
    console.log(`unpublished write repaired by sync after ${took.toFixed(0)} ms`)
  })
})
