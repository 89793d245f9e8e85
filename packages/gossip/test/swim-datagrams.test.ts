import { createSocket } from 'node:dgram'
import { waitFor } from '@grapevine/core/testing'
import type { Logger } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { datagramSender, openDatagram, sealDatagram } from '../src/datagram-seal.js'
import { DecodeError } from '../src/errors.js'
import { generatePrivateKey, peerIdOf } from '../src/identity.js'
import { WIRE_LIMITS } from '../src/messages.js'
import { createNetworkCounters } from '../src/network-stats.js'
import { createPairKeys, type PairKeys } from '../src/pair-keys.js'
import {
  createSwimDatagrams,
  datagramAddressOf,
  datagramBinding,
  datagramMultiaddrs,
  type SwimDatagrams,
} from '../src/swim-datagrams.js'

const silent: Logger = Object.assign(() => undefined, {
  error: () => undefined,
  trace: () => undefined,
  enabled: false,
  newScope: () => silent,
})

interface Node {
  id: string
  keys: PairKeys
}

async function node(cluster = 'dg', clusterKey?: Uint8Array): Promise<Node> {
  const privateKey = await generatePrivateKey()
  const id = peerIdOf(privateKey)
  return {
    id,
    keys: createPairKeys({ privateKey, self: id, cluster, ...(clusterKey && { clusterKey }) }),
  }
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof DecodeError) return err.reason
    throw err
  }
  return undefined
}

describe('pair keys', () => {
  it('are the same at both ends and differ for every other pair', async () => {
    const [a, b, c] = await Promise.all([node(), node(), node()])
    const ab = a.keys.keyFor(b.id)!
    expect(Buffer.from(b.keys.keyFor(a.id)!).equals(Buffer.from(ab))).toBe(true)
    expect(Buffer.from(a.keys.keyFor(c.id)!).equals(Buffer.from(ab))).toBe(false)
    expect(Buffer.from(c.keys.keyFor(b.id)!).equals(Buffer.from(ab))).toBe(false)
  })

  it('depend on the cluster name and the cluster key', async () => {
    const privateKey = await generatePrivateKey()
    const other = await node()
    const self = peerIdOf(privateKey)
    const key = (cluster: string, clusterKey?: Uint8Array) =>
      Buffer.from(
        createPairKeys({ privateKey, self, cluster, ...(clusterKey && { clusterKey }) }).keyFor(
          other.id,
        )!,
      ).toString('hex')
    expect(key('one')).not.toBe(key('two'))
    expect(key('one')).not.toBe(key('one', new Uint8Array([1, 2, 3])))
  })

  it('do not exist for ids that are not Ed25519 peer ids', async () => {
    const a = await node()
    expect(a.keys.keyFor('not-a-peer-id')).toBeUndefined()
    expect(a.keys.keyFor('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N')).toBeUndefined()
  })
})

describe('datagram seal', () => {
  it('opens only at the receiver it was sealed for, unaltered', async () => {
    const [a, b, c] = await Promise.all([node(), node(), node()])
    const frame = new Uint8Array([1, 2, 3, 4, 5])
    const sealed = sealDatagram(frame, a.id, b.id, a.keys.keyFor(b.id)!)
    expect(datagramSender(sealed)).toBe(a.id)
    expect([...openDatagram(sealed, b.id, b.keys.keyFor(a.id)!)]).toEqual([1, 2, 3, 4, 5])

    // Another node, even one holding a key with the sender, cannot open it.
    expect(codeOf(() => openDatagram(sealed, c.id, c.keys.keyFor(a.id)!))).toBe('auth')
    // Reflected back to its sender, it does not open either (the receiver is in the AAD).
    expect(codeOf(() => openDatagram(sealed, a.id, a.keys.keyFor(b.id)!))).toBe('auth')
    // A flipped bit anywhere, header or body, fails.
    for (const at of [3, sealed.byteLength - 20, sealed.byteLength - 1]) {
      const altered = Buffer.from(sealed)
      altered[at]! ^= 1
      expect(codeOf(() => openDatagram(altered, b.id, b.keys.keyFor(a.id)!))).toBe('auth')
    }
  })

  it('rejects what is not a datagram of this protocol before any crypto', async () => {
    const a = await node()
    const b = await node()
    const sealed = sealDatagram(new Uint8Array(8), a.id, b.id, a.keys.keyFor(b.id)!)
    expect(codeOf(() => datagramSender(new Uint8Array([1, 2])))).toBe('decode')
    const version = Buffer.from(sealed)
    version[1] = 99
    expect(codeOf(() => datagramSender(version))).toBe('version')
    expect(codeOf(() => datagramSender(sealed.subarray(0, 40)))).toBe('decode')
    expect(codeOf(() => datagramSender(new Uint8Array(WIRE_LIMITS.swimDatagramBytes + 1)))).toBe(
      'oversize',
    )
  })
})

describe('datagram addresses', () => {
  it('bind next to the TCP listener and are announced as its UDP twin', () => {
    expect(
      datagramBinding(['/ip4/0.0.0.0/tcp/0'], ['/ip4/10.0.0.5/tcp/41234/p2p/12D3KooW']),
    ).toEqual({ family: 4, host: '0.0.0.0', port: 41234 })
    expect(datagramBinding(['/ip4/127.0.0.1/tcp/7946'], [])).toEqual({
      family: 4,
      host: '127.0.0.1',
      port: 7946,
    })
    expect(datagramBinding(['/ip4/0.0.0.0/tcp/0'], [])).toBeUndefined()
    expect(
      datagramMultiaddrs(
        ['/ip4/10.0.0.5/tcp/41234/p2p/12D3KooW', '/ip4/10.0.0.5/tcp/41234', '/dns4/x/tcp/1'],
        41235,
      ),
    ).toEqual(['/ip4/10.0.0.5/udp/41235'])
    expect(datagramAddressOf(['/ip4/10.0.0.5/tcp/1/p2p/x', '/ip4/10.0.0.5/udp/9'], 4)).toEqual({
      family: 4,
      host: '10.0.0.5',
      port: 9,
    })
    expect(datagramAddressOf(['/ip4/10.0.0.5/udp/9'], 6)).toBeUndefined()
    expect(datagramAddressOf(['/ip4/10.0.0.5/udp/0'], 4)).toBeUndefined()
  })
})

describe('datagram socket', () => {
  const open: SwimDatagrams[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((socket) => socket.stop()))
  })

  async function endpoint(who: Node) {
    const received: { from: string; frame: number[] }[] = []
    const counters = createNetworkCounters(silent)
    const socket = createSwimDatagrams(
      { self: who.id, bind: { family: 4, host: '127.0.0.1', port: 0 }, newSendersPerSecond: 5 },
      {
        keys: who.keys,
        counters,
        log: silent,
        receive: (from, frame) => received.push({ from, frame: [...frame] }),
      },
    )
    await socket.start()
    open.push(socket)
    return {
      socket,
      received,
      counters,
      address: { family: 4 as const, host: '127.0.0.1', port: socket.port },
    }
  }

  it('delivers frames between members and drops and counts forged, garbled and flooding ones', async () => {
    const [a, b, mallory] = await Promise.all([node(), node(), node()])
    const ea = await endpoint(a)
    const eb = await endpoint(b)
    expect(ea.socket.send(b.id, eb.address, new Uint8Array([7, 7]))).toBe(true)
    await waitFor('b receives the frame', () => eb.received.length === 1, { timeoutMs: 5_000 })
    expect(eb.received[0]).toEqual({ from: a.id, frame: [7, 7] })

    // A frame too large for one datagram is refused, so the caller sends it on a stream.
    expect(ea.socket.send(b.id, eb.address, new Uint8Array(WIRE_LIMITS.swimDatagramBytes))).toBe(
      false,
    )

    // Mallory names `a` as the sender but has no key with `b` under that name.
    const raw = createSocket('udp4')
    const forged = sealDatagram(new Uint8Array([6, 6, 6]), a.id, b.id, mallory.keys.keyFor(b.id)!)
    const garbage = Buffer.from('not a datagram at all')
    // 20 senders never heard of, past the 5-per-second budget for new senders.
    const strangers = await Promise.all(Array.from({ length: 20 }, () => node()))
    const flood = strangers.map((s) =>
      sealDatagram(new Uint8Array([1]), s.id, b.id, s.keys.keyFor(b.id)!),
    )
    for (const bytes of [forged, garbage, ...flood]) {
      raw.send(bytes, eb.address.port, '127.0.0.1')
    }
    await waitFor(
      'the forged, garbled and flooding datagrams are dropped',
      () => {
        const dropped = eb.counters.snapshot().dropped
        return (
          (dropped.auth ?? 0) === 1 && (dropped.decode ?? 0) === 1 && (dropped.budget ?? 0) >= 1
        )
      },
      { timeoutMs: 5_000 },
    )
    raw.close()
    // What the strangers sent within the budget opened (they are valid peers); nothing from
    // the forger or the garbage reached the machine.
    expect(eb.received.some((r) => r.frame[0] === 6)).toBe(false)
    expect(eb.received.filter((r) => r.from === a.id)).toHaveLength(1)
  })
})
