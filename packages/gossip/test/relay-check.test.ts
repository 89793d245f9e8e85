import { type Claim, createRegistryNode, PROFILES, type SyncPart, signSeal } from '@grapevine/core'
import { describe, expect, it } from 'vitest'
import {
  createRecordSigner,
  createRecordVerifier,
  generatePrivateKey,
  peerIdOf,
} from '../src/index.js'
import { createRelayCheck } from '../src/relay-check.js'

/**
 * Parts relayed by a node other than their origin (issue 9, finding 1: one unsigned ACK2 part
 * pushed another node's `covered` up by 1,000,000, or its generation to 2^53 − 1, and every
 * node took it). A relayed part is taken only as far as its origin signed it.
 */
async function origin() {
  const key = await generatePrivateKey()
  const id = peerIdOf(key)
  const signing = { cluster: 'test', signer: createRecordSigner(key) }
  const registry = createRegistryNode({
    nodeId: id,
    gen: 5,
    now: () => 0,
    timings: PROFILES.lan,
    signing,
  })
  for (let i = 0; i < 3; i++) {
    registry.register({ id: `pay-${i}`, name: 'pay', endpoints: [`http://10.0.0.2:${8080 + i}`] })
  }
  const [part] = registry.replica.partsFor({}, 1 << 20)
  return { id, signing, part: { ...part!, seal: registry.ownSeal()! } as SyncPart }
}

describe('relay check (finding 1)', () => {
  const check = () => createRelayCheck('test', createRecordVerifier())

  it('takes a part its origin sealed and signed', async () => {
    const { part } = await origin()
    expect(check().check(part)).toEqual({ ok: true, part, forged: 0 })
  })

  it('refuses coverage beyond the seal: +1,000,000', async () => {
    const { part } = await origin()
    const forged = { ...part, after: part.covered, covered: part.covered + 1_000_000, claims: [] }
    expect(check().check(forged)).toMatchObject({ ok: false, reason: 'seal' })
  })

  it('refuses a generation the origin never sealed, with a seal it did not sign', async () => {
    const { id, part } = await origin()
    const other = await origin()
    const gen = 2 ** 53 - 1
    // Signed, but by another key: the seal names `id` as its origin.
    const seal = signSeal(other.signing, { origin: id, gen, covered: 0, floor: 0 })
    const forged = { ...part, gen, full: true, after: 0, covered: 0, claims: [], seal }
    expect(check().check(forged)).toMatchObject({ ok: false, reason: 'signature' })
    expect(check().check({ ...forged, seal: undefined } as SyncPart)).toMatchObject({
      ok: false,
      reason: 'seal',
    })
  })

  it('cuts the part just before a claim its origin did not sign', async () => {
    const { part } = await origin()
    const claims = part.claims as Claim[]
    const rewritten: Claim = {
      ...claims[1]!,
      instance: { ...claims[1]!.instance!, endpoints: ['http://6.6.6.6:80'] },
    }
    const verdict = check().check({ ...part, claims: [claims[0]!, rewritten, claims[2]!] })
    expect(verdict).toMatchObject({ ok: true, forged: 2 })
    if (!verdict.ok) throw new Error('expected ok')
    expect(verdict.part.covered).toBe(claims[1]!.seq - 1)
    expect(verdict.part.claims).toEqual([claims[0]])
  })
})
