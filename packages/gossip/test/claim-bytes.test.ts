import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Claim, createRegistryNode, PROFILES } from '@grapevine/core'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { compactClaim, createClaimBytesCache } from '../src/claim-bytes.js'

const ORIGIN = '12D3KooWGRUVh2YdVtvqzZ7ha4W1mE3bH6aYqUtFddb7hMiyX3xT'
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
const pack = (value: unknown): Uint8Array => packr.pack(value)
const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1')

function registry() {
  return createRegistryNode({ nodeId: ORIGIN, gen: 3, now: () => 0, timings: PROFILES.lan })
}

function register(node: ReturnType<typeof registry>, id: string, version: string): Claim {
  return node.register({
    id,
    name: 'user-service',
    version,
    endpoints: ['grpc://10.0.0.1:9000?isSecure=false'],
    metadata: { zone: 'a' },
    tags: ['edge'],
  }).delta.claims[0]!
}

describe('claim bytes cache', () => {
  it('gives the bytes msgpack gives the compact claim, and encodes each claim once', () => {
    const node = registry()
    const claims = [register(node, 'a', 'v1'), node.deregister('a').claims[0]!]
    const signed = Object.freeze({ ...claims[0]!, sig: new Uint8Array(64).fill(9) })
    const cache = createClaimBytesCache(pack)
    for (const claim of [...claims, signed]) {
      const expected = latin1(pack(compactClaim(claim)))
      expect(cache.bytes(claim)).toBe(expected)
      expect(cache.bytes(claim)).toBe(expected)
      // One char per byte: the entry is exactly the encoded size.
      expect(cache.bytes(claim).length).toBe(pack(compactClaim(claim)).byteLength)
    }
    expect(cache.encoded).toBe(3)
  })

  it('never serves stale bytes: a new write of the id is a new claim, encoded afresh', () => {
    const node = registry()
    const cache = createClaimBytesCache(pack)
    const first = register(node, 'a', 'v1')
    const before = cache.bytes(first)
    const second = register(node, 'a', 'v2')
    const after = cache.bytes(second)
    expect(after).not.toBe(before)
    expect(after).toBe(latin1(pack(compactClaim(second))))
    expect(after).toContain('v2')
    expect(cache.bytes(first)).toBe(before)
    expect(cache.encoded).toBe(2)
  })

  it('keeps nothing of a claim that could change: encoded every time', () => {
    const node = registry()
    const cache = createClaimBytesCache(pack)
    const frozen = register(node, 'a', 'v1')
    const mutable = { ...frozen, seq: 10 } as { -readonly [K in keyof Claim]: Claim[K] }
    expect(cache.bytes(mutable)).toBe(latin1(pack(compactClaim(mutable))))
    mutable.seq = 11
    expect(cache.bytes(mutable)).toBe(latin1(pack(compactClaim(mutable))))
    // Frozen at the top but with a metadata object that is not.
    const metadata: Record<string, string> = { zone: 'a' }
    const shallow = Object.freeze({
      ...frozen,
      instance: Object.freeze({ ...frozen.instance!, metadata }),
    })
    const once = cache.bytes(shallow)
    metadata.zone = 'b'
    expect(cache.bytes(shallow)).not.toBe(once)
    expect(cache.bytes(shallow)).toBe(latin1(pack(compactClaim(shallow))))
    expect(cache.encoded).toBe(5)
  })

  it('holds no claim alive: an entry goes with its claim', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const cache = createClaimBytesCache(pack)
    // A copy: the registry's log keeps replaced claims until it compacts.
    let claim: Claim | undefined = Object.freeze({ ...register(registry(), 'a', 'v1') })
    cache.bytes(claim)
    const ref = new WeakRef(claim)
    claim = undefined
    // WeakRefs are cleared only after the job that last read them.
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    await new Promise((resolve) => setImmediate(resolve))
    expect(ref.deref()).toBeUndefined()
  })
})
