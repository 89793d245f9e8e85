import type { Logger } from '@libp2p/interface'
import { beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, peerIdOf } from '../src/identity.js'
import { createPeerKeeper, type KnownMember } from '../src/peer-keeper.js'

const log = Object.assign(() => undefined, {
  error: () => undefined,
  trace: () => undefined,
  enabled: false,
}) as unknown as Logger

// Sorted, so that table order is id order; all sort after SELF, so this node dials each
// member on its first look (the higher id of a pair waits one look).
const SELF = '0-self'
let ids: string[] = []
beforeAll(async () => {
  ids = (await Promise.all(Array.from({ length: 40 }, generatePrivateKey))).map(peerIdOf).sort()
})
const members = (count: number): KnownMember[] =>
  ids.slice(0, count).map((id, i) => ({ id, addresses: [`/ip4/10.0.0.${i + 1}/tcp/4001`] }))

/** A keeper over a fake network: dials connect at once, hang-ups disconnect at once. */
function keeperOver(init: {
  members: KnownMember[]
  connected?: string[]
  mesh?: string[]
  maxPeers?: number
  seed?: number
}) {
  const connected = new Set(init.connected ?? [])
  const dialed: string[] = []
  const closed: string[] = []
  let time = 0
  let state = init.seed ?? 1
  const keeper = createPeerKeeper(
    {
      ...(init.maxPeers === undefined ? {} : { maxPeers: init.maxPeers }),
      interval: 5_000,
      now: () => time,
      // A small LCG: reproducible, and different seeds shuffle differently.
      random: () => {
        state = (state * 1_103_515_245 + 12_345) % 2 ** 31
        return state / 2 ** 31
      },
    },
    {
      self: SELF,
      connectedPeers: () => [...connected],
      members: () => init.members,
      dial: async (address) => {
        const id = init.members.find((m) => address.startsWith(`${m.addresses[0]!}/`))!.id
        dialed.push(id)
        connected.add(id)
        return id
      },
      hangUp: async (peer) => {
        closed.push(peer)
        connected.delete(peer)
      },
      preferred: () => new Set(init.mesh ?? []),
      log,
    },
  )
  keeper.start()
  return {
    keeper,
    connected,
    dialed,
    closed,
    advance: (ms: number) => {
      time += ms
    },
    stop: () => keeper.stop(),
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('peer keeper', () => {
  it('dials random members, not the first ones of the table, and stops at maxPeers', async () => {
    const firstPicks = new Set<string>()
    for (const seed of [1, 2, 3, 4]) {
      const net = keeperOver({ members: members(40), seed })
      net.keeper.poke()
      await settle()
      expect(net.dialed).toHaveLength(8)
      for (const id of net.dialed) firstPicks.add(id)
      net.keeper.poke()
      await settle()
      expect(net.dialed).toHaveLength(8)
      net.stop()
    }
    // Table order would pick the first 8 every time: four seeds spread over the table.
    expect(firstPicks.size).toBeGreaterThan(16)
    expect([...firstPicks].some((id) => ids.indexOf(id) >= 20)).toBe(true)
  })

  it('closes connections above 1.5 × maxPeers, old ones only, sparing mesh peers', async () => {
    const all = members(20).map((m) => m.id)
    const mesh = all.slice(0, 6)
    const net = keeperOver({ members: members(20), connected: all, mesh })
    net.keeper.poke()
    await settle()
    // Every connection is new to the keeper: a joiner keeps what it has for a while.
    expect(net.closed).toEqual([])

    net.advance(15_000)
    net.keeper.poke()
    // Asked again before the hang-ups finished, it does not close a second batch.
    net.keeper.poke()
    await settle()
    expect(net.closed).toHaveLength(8) // 20 → 12
    expect(net.connected.size).toBe(12)
    expect(net.closed.some((id) => mesh.includes(id))).toBe(false)
    expect(net.dialed).toEqual([])
    net.stop()
  })

  it('closes mesh peers too when nothing else is left to close', async () => {
    const all = members(10).map((m) => m.id)
    const net = keeperOver({ members: members(10), connected: all, mesh: all, maxPeers: 4 })
    net.keeper.poke()
    net.advance(15_000)
    net.keeper.poke()
    await settle()
    expect(net.connected.size).toBe(6)
    net.stop()
  })
})
