import type { Digest, SwimMessage } from '@grapevine/core'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { createDigestWatch, digestTag } from '../src/digest-tag.js'
import { DecodeError } from '../src/errors.js'
import { PROTOCOL_VERSION } from '../src/messages.js'
import { decodeSwimEnvelope, encodeSwimFrame } from '../src/swim-wire.js'

const A = '12D3KooWA'
const B = '12D3KooWB'

describe('digest tags', () => {
  it('are equal for replicas holding the same writes, whatever their order or floor', () => {
    const one: Digest = {
      [A]: { gen: 3, covered: 10, floor: 0 },
      [B]: { gen: 1, covered: 4, floor: 2 },
    }
    const other: Digest = {
      [B]: { gen: 1, covered: 4, floor: 0 },
      [A]: { gen: 3, covered: 10, floor: 9 },
    }
    expect(digestTag(one)).toBe(digestTag(other))
  })

  it('differ when a replica lacks a write, a generation or an origin', () => {
    const base: Digest = { [A]: { gen: 3, covered: 10, floor: 0 } }
    const tags = new Set([
      digestTag(base),
      digestTag({ [A]: { gen: 3, covered: 9, floor: 0 } }),
      digestTag({ [A]: { gen: 4, covered: 10, floor: 0 } }),
      digestTag({ ...base, [B]: { gen: 1, covered: 1, floor: 0 } }),
      digestTag({}),
    ])
    expect(tags.size).toBe(5)
  })

  // Measured at 20 daemons: a joiner's empty entry spread by the sessions it took part in, and
  // each replica that gained it differed from its neighbours: 25 sessions of 0 claims per join.
  it('leave out an origin that has written nothing: a session would bring nothing of it', () => {
    const base: Digest = { [A]: { gen: 3, covered: 10, floor: 0 } }
    expect(digestTag({ ...base, [B]: { gen: 1, covered: 0, floor: 0 } })).toBe(digestTag(base))
  })

  it('ride on PING and PING_ACK, and a malformed one drops the frame', () => {
    const ping: SwimMessage = { kind: 'ping', seq: 7, target: A, updates: [] }
    expect(decodeSwimEnvelope(encodeSwimFrame(ping, 0xdeadbeef))).toEqual({
      message: ping,
      digestTag: 0xdeadbeef,
    })
    const nack: SwimMessage = { kind: 'nack', seq: 7, updates: [] }
    expect(decodeSwimEnvelope(encodeSwimFrame(nack, 5)).digestTag).toBeUndefined()
    const packr = new Packr({ useRecords: false })
    for (const dg of [-1, 2 ** 32, 1.5, 'x', [1]]) {
      const bytes = packr.pack({ v: PROTOCOL_VERSION, t: 21, seq: 1, up: [], dg })
      expect(() => decodeSwimEnvelope(bytes)).toThrow(DecodeError)
    }
  })

  it('travel beside the member-table tag, which is optional and checked the same way', () => {
    const ack: SwimMessage = { kind: 'ack', seq: 7, updates: [], table: 0xffff_ffff }
    expect(decodeSwimEnvelope(encodeSwimFrame(ack, 3))).toEqual({ message: ack, digestTag: 3 })
    const untagged: SwimMessage = { kind: 'ack', seq: 7, updates: [] }
    expect(decodeSwimEnvelope(encodeSwimFrame(untagged)).message).toEqual(untagged)
    const packr = new Packr({ useRecords: false })
    for (const mt of [-1, 2 ** 32, 1.5, 'x']) {
      const bytes = packr.pack({ v: PROTOCOL_VERSION, t: 21, seq: 1, up: [], mt })
      expect(() => decodeSwimEnvelope(bytes)).toThrow(/mt/)
    }
  })
})

describe('digest watch', () => {
  function watch() {
    const clock = { now: 0 }
    let digest: Digest = { [A]: { gen: 1, covered: 1, floor: 0 } }
    const synced: string[] = []
    const state = { ready: true }
    const w = createDigestWatch(
      { settleMs: 1_000 },
      {
        digest: () => digest,
        syncSoon: (peer) => synced.push(peer),
        ready: () => state.ready,
        now: () => clock.now,
      },
    )
    return {
      w,
      clock,
      synced,
      state,
      set(next: Digest) {
        digest = next
      },
    }
  }

  it('syncs with a peer whose tag differs once nothing of ours is in flight', () => {
    const { w, clock, synced } = watch()
    w.tag()
    clock.now = 1_500
    w.heard(B, 42)
    expect(synced).toEqual([B])
  })

  it('waits while its own writes are in flight, then syncs if the peer still differs', () => {
    const { w, clock, synced, set } = watch()
    w.tag()
    clock.now = 100
    set({ [A]: { gen: 1, covered: 2, floor: 0 } })
    w.heard(B, 42)
    expect(synced).toEqual([])
    clock.now = 600
    w.heard(B, w.tag()!)
    clock.now = 900
    w.heard(B, 42)
    expect(synced).toEqual([])
    clock.now = 1_950
    w.heard(B, 42)
    expect(synced).toEqual([B])
  })

  it('shows no tag and starts nothing until this node is ready', () => {
    const { w, clock, synced, state } = watch()
    state.ready = false
    expect(w.tag()).toBeUndefined()
    clock.now = 1_500
    w.heard(B, 42)
    clock.now = 3_000
    w.heard(B, 42)
    expect(synced).toEqual([])
    state.ready = true
    expect(w.tag()).toBeTypeOf('number')
    clock.now = 4_500
    w.heard(B, 42)
    expect(synced).toEqual([B])
  })

  it('never syncs with a peer that holds the same writes', () => {
    const { w, clock, synced } = watch()
    for (let t = 0; t < 10_000; t += 250) {
      clock.now = t
      w.heard(B, w.tag()!)
    }
    expect(synced).toEqual([])
  })

  it('says a peer agrees while its last tag matched recently, and not once it differs', () => {
    const { w, clock } = watch()
    expect(w.agrees(B, 30_000)).toBe(false)
    w.heard(B, w.tag()!)
    clock.now = 29_000
    expect(w.agrees(B, 30_000)).toBe(true)
    clock.now = 31_000
    expect(w.agrees(B, 30_000)).toBe(false)
    w.heard(B, w.tag()!)
    w.heard(B, 42)
    expect(w.agrees(B, 30_000)).toBe(false)
    w.heard(B, w.tag()!)
    w.forget(B)
    expect(w.agrees(B, 30_000)).toBe(false)
  })

  it('starts at most one session a second however many peers differ', () => {
    const { w, clock, synced } = watch()
    w.tag()
    clock.now = 2_000
    for (const peer of ['p1', 'p2', 'p3', 'p4']) w.heard(peer, 42)
    expect(synced).toEqual(['p1'])
    clock.now = 2_500
    w.heard('p2', 42)
    expect(synced).toEqual(['p1'])
    clock.now = 3_000
    w.heard('p2', 42)
    expect(synced).toEqual(['p1', 'p2'])
  })
})
