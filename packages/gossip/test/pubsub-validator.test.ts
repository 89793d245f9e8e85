import { createRegistryNode, PROFILES } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import {
  clusterTopic,
  encodePubsubMessage,
  type Host,
  MessageType,
  PROTOCOL_VERSION,
} from '../src/index.js'
import {
  bareHost,
  service,
  signedAlive,
  startNode,
  stopAfterEach,
  type TestNode,
} from './helpers.js'

/**
 * A raw host that speaks gossipsub on the cluster topic but is not a Grapevine node: it
 * publishes whatever bytes the test hands it, signed with its own key.
 */
async function rogue(
  target: TestNode,
): Promise<{ host: Host; publish(bytes: Uint8Array): Promise<void> }> {
  const host = await bareHost()
  await host.start()
  const topic = clusterTopic('test')
  const pubsub = host.libp2p.services.pubsub
  pubsub.subscribe(topic)
  await host.dial(target.address)
  await waitFor(
    'the rogue sees the node subscribed',
    () => pubsub.getSubscribers(topic).some((peer) => peer.equals(peerIdFromString(target.id))),
    { timeoutMs: 5_000 },
  )
  return {
    host,
    async publish(bytes) {
      await pubsub.publish(topic, bytes)
    },
  }
}

describe('pubsub topic validator', () => {
  const running = stopAfterEach()

  it('rejects a message whose signer is not its origin, and counts it', async () => {
    const a = await startNode({ timings: { syncInterval: 1_000 } })
    const b = await startNode({ bootstrap: [a], timings: { syncInterval: 1_000 } })
    running.nodes.push(a, b)
    const evil = await rogue(a)
    running.hosts.push(evil.host)
    await waitFor('A hears B', () => a.node.membership.member(b.id)?.state === 'alive', {
      timeoutMs: 5_000,
    })

    // A DELTA that claims to come from B (well-formed claims, written by B's id), signed by the rogue.
    const forger = createRegistryNode({ nodeId: b.id, gen: 1, now: () => 0, timings: PROFILES.lan })
    const forged = forger.register(service('forged', 1)).delta
    await evil.publish(
      encodePubsubMessage({ v: PROTOCOL_VERSION, t: MessageType.DELTA, hbSeq: 1, ...forged }),
    )
    // A LEFT that would retire B: also not the rogue's to publish (only B signs B's LEFT).
    await evil.publish(
      encodePubsubMessage({
        v: PROTOCOL_VERSION,
        t: MessageType.LEFT,
        record: {
          kind: 'left',
          id: b.id,
          gen: b.registry.gen,
          incarnation: 9,
          sig: new Uint8Array(64),
        },
      }),
    )
    await waitFor('A drops both forgeries', () => (a.node.stats().dropped.signer ?? 0) >= 2, {
      timeoutMs: 5_000,
    })

    // The rogue's own, correctly signed message is accepted: the path works, only forgery fails.
    const own = createRegistryNode({
      nodeId: evil.host.peerId,
      signing: evil.host.signing,
      gen: 1,
      now: () => 0,
      timings: PROFILES.lan,
    })
    const honest = own.register(service('honest', 1)).delta
    const seal = own.ownSeal()!
    const honestBytes = encodePubsubMessage({
      v: PROTOCOL_VERSION,
      t: MessageType.DELTA,
      hbSeq: 2,
      ...honest,
      seal,
    })
    await evil.publish(honestBytes)
    await waitFor(
      'A accepts the honest DELTA',
      () => a.registry.getService('honest').length === 1,
      { timeoutMs: 5_000 },
    )

    expect(a.registry.getService('forged')).toEqual([])
    expect(a.node.membership.member(b.id)?.state).toBe('alive')
    // Rejected messages are not forwarded: B never sees the forgeries either. The honest DELTA
    // reaches B through A's gossipsub mesh once it is formed (anti-entropy does not introduce
    // an origin B never heard from, and the rogue sends nothing else, so it publishes again).
    await waitFor(
      'B gets the honest DELTA',
      async () => {
        if (b.registry.getService('honest').length === 1) return true
        await evil.publish(honestBytes)
        return false
      },
      { timeoutMs: 5_000, intervalMs: 250 },
    )
    expect(b.registry.getService('forged')).toEqual([])
  })

  it('drops and counts undecodable and malformed messages, and keeps working', async () => {
    const a = await startNode()
    running.nodes.push(a)
    const evil = await rogue(a)
    running.hosts.push(evil.host)

    await evil.publish(new Uint8Array([0xc1, 0xff, 0x00, 0x13]))
    await evil.publish(new TextEncoder().encode('{"v":1,"t":2}'))
    await evil.publish(
      encodePubsubMessage({
        v: PROTOCOL_VERSION,
        t: MessageType.ALIVE,
        record: { ...signedAlive(evil.host, 'rogue'), addrs: ['not a multiaddr'] },
      }),
    )
    await waitFor(
      'A counts two decode and one schema drop',
      () => {
        const dropped = a.node.stats().dropped
        return (dropped.decode ?? 0) >= 2 && (dropped.schema ?? 0) >= 1
      },
      { timeoutMs: 5_000 },
    )
    // Three invalid messages graylisted the rogue (topic scoring): gossipsub ignores it until
    // its penalty decays (halving every second). Then a well-formed ALIVE whose signature is
    // not the rogue's is looked at, and dropped as such.
    const forged = encodePubsubMessage({
      v: PROTOCOL_VERSION,
      t: MessageType.ALIVE,
      record: { ...signedAlive(evil.host, 'rogue'), sig: new Uint8Array(64) },
    })
    await waitFor(
      'A counts a signature drop',
      async () => {
        if ((a.node.stats().dropped.signature ?? 0) >= 1) return true
        await evil.publish(forged)
        return false
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    )

    // Once the penalty decays again, its own valid ALIVE is taken.
    const alive = encodePubsubMessage({
      v: PROTOCOL_VERSION,
      t: MessageType.ALIVE,
      record: signedAlive(evil.host, 'rogue'),
    })
    await waitFor(
      'A admits the rogue by its own signed ALIVE',
      async () => {
        // Admitted (SWIM then finds it cannot probe the rogue and suspects it: not our concern).
        if (a.node.membership.member(evil.host.peerId) !== undefined) return true
        await evil.publish(alive)
        return false
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    )
  })
})
