import { waitFor } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import { clusterTopic, encodePubsubMessage, MessageType, PROTOCOL_VERSION } from '../src/index.js'
import { createNetworkCounters } from '../src/network-stats.js'
import { createPubsubChannel } from '../src/pubsub-channel.js'
import { createRawPeer, encodeTopicRpc, type RawPeer } from '../src/testing/index.js'
import {
  bareHost,
  bareRegistry,
  signedAlive,
  startNode,
  stopAfterEach,
  type TestNode,
} from './helpers.js'

/**
 * Gossipsub scoring and the per-peer rate limit, against a peer that floods (issue 9, finding
 * 6: a sender of 19,820 rejected messages was never graylisted, and each cost every receiver
 * ~0.6 ms). The flooder is a bare libp2p peer writing gossipsub RPCs by hand; "cut" means
 * gossipsub refuses its RPCs before decoding a single message of them (its score is below the
 * graylist threshold, −80).
 */

const topic = clusterTopic('test')

interface Gossipsub {
  getScore(peer: string): number
  acceptFrom(peer: string): boolean
}

/** Counts the RPCs of `peer` that gossipsub refused unread (wraps its `acceptFrom`). */
function refusedRpcs(node: Pick<TestNode, 'host'>, peer: string): { readonly count: number } {
  const gossipsub = node.host.libp2p.services.pubsub as unknown as Gossipsub
  const accept = gossipsub.acceptFrom.bind(gossipsub)
  const refused = { count: 0 }
  gossipsub.acceptFrom = (id) => {
    const ok = accept(id)
    if (!ok && id === peer) refused.count++
    return ok
  }
  return refused
}

const scoreOf = (node: Pick<TestNode, 'host'>, peer: string): number =>
  (node.host.libp2p.services.pubsub as unknown as Gossipsub).getScore(peer)

async function flooder(node: Pick<TestNode, 'id' | 'address'>) {
  const peer = await createRawPeer()
  await peer.dial(node.address)
  const stream = await peer.open(node.id, '/meshsub/1.1.0')
  await stream.writeFrames([encodeTopicRpc({ subscribe: [topic] })])
  let seqno = 0n
  return {
    peer,
    /** One RPC per message, each validly signed by the flooder. */
    async send(payloads: readonly Uint8Array[]): Promise<void> {
      await stream.writeFrames(
        payloads.map((data) =>
          encodeTopicRpc({ messages: [peer.signTopicMessage(topic, data, ++seqno)] }),
        ),
      )
    },
  }
}

function aliveOf(peer: RawPeer): Uint8Array {
  const record = signedAlive(peer, 'flooder')
  return encodePubsubMessage({ v: PROTOCOL_VERSION, t: MessageType.ALIVE, record })
}

describe('topic scoring and rate limit cut a flooding peer (finding 6)', () => {
  const running = stopAfterEach()

  it('three invalid messages graylist the sender: its next RPCs are refused unread', async () => {
    const a = await startNode()
    running.nodes.push(a)
    const evil = await flooder(a)
    running.hosts.push(evil.peer)
    const refused = refusedRpcs(a, evil.peer.peerId)
    const garbage = Array.from({ length: 3 }, (_, i) => new Uint8Array([0xc1, i]))
    await evil.send(garbage)
    await waitFor('A rejects the three', () => (a.node.stats().dropped.decode ?? 0) === 3)
    expect(scoreOf(a, evil.peer.peerId)).toBeLessThan(-80)

    // The next hundred are not looked at: no decode, no signature check.
    await evil.send(Array.from({ length: 100 }, (_, i) => new Uint8Array([0xc1, i])))
    await waitFor('A refuses all hundred RPCs', () => refused.count >= 100)
    expect(a.node.stats().dropped.decode).toBe(3)
  })

  it('a peer publishing its own valid messages past its rate is penalised and cut', async () => {
    // The pubsub channel alone, with a rate of 1/s and a burst of 10 (defaults: 500/s, 2,000).
    const host = await bareHost()
    running.hosts.push(host)
    const registry = bareRegistry(host)
    const counters = createNetworkCounters(host.log)
    const channel = createPubsubChannel(
      { cluster: 'test', rateLimit: { perSecond: 1, burst: 10 } },
      { host, registry, counters, behind: () => undefined, record: () => undefined },
    )
    await host.start()
    channel.start()
    const a = { id: host.peerId, address: host.addresses()[0]!, host }
    const evil = await flooder(a)
    running.hosts.push(evil.peer)
    const refused = refusedRpcs(a, evil.peer.peerId)
    // Valid, correctly signed ALIVEs of its own, far past its burst.
    const alive = aliveOf(evil.peer)
    await evil.send(Array.from({ length: 200 }, () => alive))
    await waitFor('A refuses the flooder', () => refused.count > 0)
    expect(scoreOf(a, evil.peer.peerId)).toBeLessThan(-80)
    // Three over the rate graylist it (a behaviour penalty of −10 each, squared): the rest
    // of the flood, and the next hundred, are refused before gossipsub verifies a signature.
    const before = refused.count
    await evil.send(Array.from({ length: 100 }, () => alive))
    await waitFor('A refuses the next hundred', () => refused.count >= before + 100)
    expect(counters.snapshot().dropped.budget ?? 0).toBeLessThanOrEqual(5)
    channel.stop()
  })
})
