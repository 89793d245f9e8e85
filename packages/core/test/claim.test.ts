import { describe, expect, it } from 'vitest'
import { MAX_VECTOR_COUNTER, validateClaim } from '../src/claim.js'
import { createClaimWriter } from '../src/claim-writer.js'
import { ValidationError } from '../src/errors.js'
import { createReplica } from '../src/replica.js'
import { incrementVector } from '../src/version-vector.js'
import { instanceOf } from './replica-fixtures.js'

const wire = (vv: Record<string, number>) => ({
  origin: 'A',
  gen: 1,
  seq: 1,
  id: 'x',
  vv,
  instance: instanceOf('x', 'A'),
})

describe('claims: bounded vectors (finding 4)', () => {
  it('rejects a vector counter above 2^32, which would make the next write unsafe', () => {
    expect(() => validateClaim(wire({ A: 1, B: 2 ** 53 - 1 }))).toThrow(ValidationError)
    expect(() => validateClaim(wire({ A: 1, B: MAX_VECTOR_COUNTER + 1 }))).toThrow(/claim\.vv\.B/)
    expect(validateClaim(wire({ A: 1, B: MAX_VECTOR_COUNTER })).vv.B).toBe(MAX_VECTOR_COUNTER)
  })

  it('rejects vector keys that are not peer-id shaped or are too long', () => {
    expect(() => validateClaim(wire({ A: 1, ['x'.repeat(229)]: 1 }))).toThrow(
      /keys must be node ids/,
    )
    expect(() => validateClaim(wire({ A: 1, 'not a peer id': 1 }))).toThrow(/keys must be node ids/)
    expect(() => validateClaim(wire({ A: 1, ['__proto__']: 1, constructor: 1 }))).toThrow(
      ValidationError,
    )
  })

  it('never increments a counter past the cap', () => {
    expect(incrementVector({ A: MAX_VECTOR_COUNTER }, 'A').A).toBe(MAX_VECTOR_COUNTER)
    const replica = createReplica({ now: () => 0, tombstoneTtl: 1 })
    replica.applyDelta({
      origin: 'B',
      gen: 1,
      fromSeq: 1,
      toSeq: 1,
      claims: [
        { ...wire({ B: 1, A: MAX_VECTOR_COUNTER }), origin: 'B', instance: instanceOf('x', 'B') },
      ],
    })
    const writer = createClaimWriter({ origin: 'A', gen: 1, replica })
    const { claims } = writer.write([{ id: 'x', instance: instanceOf('x', 'A') }])
    expect(Number.isSafeInteger(claims[0]!.vv.A)).toBe(true)
    expect(claims[0]!.vv.A).toBe(MAX_VECTOR_COUNTER)
    expect(() => validateClaim(claims[0])).not.toThrow()
  })
})
