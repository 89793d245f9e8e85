import {
  type Claim,
  claimSigningBytes,
  createRegistryNode,
  type Delta,
  LIMITS,
  PROFILES,
  verifyClaim,
} from '@grapevine/core'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import {
  decodePubsubMessage,
  encodePubsubMessage,
  generatePrivateKey,
  MessageType,
  PROTOCOL_VERSION,
  peerIdOf,
  WIRE_LIMITS,
} from '../src/index.js'
import { createRecordSigner, createRecordVerifier } from '../src/record-signing.js'

/**
 * Issue 12, friction point 6: an instance's check summaries travel inside its signed claim.
 * They are covered by the origin's signature (a relay cannot turn a critical check passing),
 * they decode strictly, and an instance without checks signs exactly the bytes it signed before
 * check summaries existed, so the claim format only grew.
 */
const CLUSTER = 'checks-test'

async function writer() {
  const key = await generatePrivateKey()
  const nodeId = peerIdOf(key)
  const registry = createRegistryNode({
    nodeId,
    gen: 3,
    now: () => 0,
    timings: PROFILES.lan,
    signing: { cluster: CLUSTER, signer: createRecordSigner(key) },
  })
  return { nodeId, registry }
}

function roundTrip(delta: Delta): Claim[] {
  const bytes = encodePubsubMessage({
    v: PROTOCOL_VERSION,
    t: MessageType.DELTA,
    hbSeq: 1,
    ...delta,
  })
  const decoded = decodePubsubMessage(bytes)
  if (decoded.t !== MessageType.DELTA) throw new Error('not a DELTA')
  return [...decoded.claims]
}

const check = { id: 'ttl-0', name: 'TTL 30s', status: 'critical' as const, output: 'no report' }

describe('check summaries on the wire (friction point 6)', () => {
  it('round-trip inside a signed DELTA, and the signature covers them', async () => {
    const { registry } = await writer()
    const { delta } = registry.register({ id: 'billing-1', name: 'billing' }, [check])
    const [claim] = roundTrip(delta)
    expect(claim!.instance?.checks).toEqual([check])
    const verifier = createRecordVerifier()
    expect(verifyClaim(CLUSTER, verifier, claim!)).toBe(true)
    // A relay that flips the check to passing (or drops it) breaks the origin's signature.
    const flipped = { ...claim!.instance!, checks: [{ ...check, status: 'passing' as const }] }
    expect(verifyClaim(CLUSTER, verifier, { ...claim!, instance: flipped })).toBe(false)
    const { checks: _dropped, ...bare } = claim!.instance!
    expect(verifyClaim(CLUSTER, verifier, { ...claim!, instance: bare })).toBe(false)
  })

  it('a status change is one new write carrying the new state', async () => {
    const { registry } = await writer()
    registry.register({ id: 'billing-1', name: 'billing', status: 'critical' }, [check])
    const passing = { ...check, status: 'passing' as const, output: 'ok' }
    const delta = registry.setHealth('billing-1', 'passing', [passing])
    expect(delta?.claims).toHaveLength(1)
    expect(roundTrip(delta!)[0]!.instance).toMatchObject({ status: 'passing', checks: [passing] })
    // Nothing changed: no write.
    expect(registry.setHealth('billing-1', 'passing', [passing])).toBeUndefined()
  })

  it('an instance without checks signs the bytes of the format before summaries', async () => {
    const { registry } = await writer()
    const { delta } = registry.register({ id: 'web-1', name: 'web', tags: ['a'] })
    const claim = delta.claims[0]!
    const instance = claim.instance!
    const before = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true }).pack([
      'grapevine/claim/2',
      CLUSTER,
      claim.origin,
      claim.gen,
      claim.seq,
      claim.id,
      [claim.origin, 1],
      [instance.name, instance.version, [], instance.endpoints, instance.tags, instance.status],
    ])
    expect(Buffer.from(claimSigningBytes(CLUSTER, claim)).equals(before)).toBe(true)
  })

  it('the largest instance with the most checks still fits one DELTA', async () => {
    const { registry } = await writer()
    const long = (n: number) => 'x'.repeat(n)
    const metadata: Record<string, string> = {}
    for (let i = 0; i < 15; i++) metadata[`k${i}`] = long(LIMITS.metadataValueLength)
    const checks = Array.from({ length: LIMITS.checks }, (_, i) => ({
      id: `c${i}`.padEnd(LIMITS.checkIdLength, 'i'),
      name: long(LIMITS.checkNameLength),
      status: 'warning' as const,
      output: '\u00e9'.repeat(LIMITS.checkOutputLength),
    }))
    const { delta } = registry.register(
      {
        id: long(LIMITS.idLength),
        name: 'big',
        metadata,
        endpoints: Array.from(
          { length: LIMITS.endpoints },
          (_, i) => `http://10.0.0.${i}:80/${long(200)}`,
        ),
        tags: Array.from({ length: LIMITS.tags }, (_, i) => `${i}${long(LIMITS.tagLength - 2)}`),
      },
      checks,
    )
    const bytes = encodePubsubMessage({
      v: PROTOCOL_VERSION,
      t: MessageType.DELTA,
      hbSeq: 1,
      ...delta,
    })
    expect(bytes.byteLength).toBeLessThan(WIRE_LIMITS.pubsubMessageBytes)
    expect(roundTrip(delta)[0]!.instance?.checks).toHaveLength(LIMITS.checks)
  })
})
