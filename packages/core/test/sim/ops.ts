import fc from 'fast-check'
import type { HealthStatus } from '../../src/instance.js'

/**
 * One step of a simulated run. Node indices are taken modulo the cluster size; `k` picks a
 * message in flight modulo the queue length, which is how deliveries get reordered.
 */
export type SimOp =
  | {
      t: 'register'
      node: number
      id: number
      name: number
      variant: number
      status: HealthStatus
    }
  | { t: 'deregister'; node: number; id: number }
  | { t: 'setStatus'; node: number; id: number; status: HealthStatus }
  | { t: 'restamp'; node: number }
  | { t: 'deliver'; k: number }
  | { t: 'duplicate'; k: number }
  | { t: 'drop'; k: number }
  | { t: 'sync'; a: number; b: number }
  | { t: 'exchange'; a: number; b: number }
  /** `states`: the fact carries the sender's `covered` when sent, as a signed ALIVE does. */
  | { t: 'heartbeat'; node: number; states: boolean }
  | { t: 'disconnect'; a: number; b: number }
  | { t: 'partition'; mask: number }
  | { t: 'heal' }
  | { t: 'restart'; node: number; disk: boolean }
  | { t: 'advance'; ms: number }

export interface Scenario {
  /** 2 to 6 nodes. */
  nodes: number
  /** Byte budget of sync replies: small ones force cut parts. */
  budget: number
  ops: SimOp[]
}

const node = fc.nat(5)
const status = fc.constantFrom<HealthStatus>('passing', 'passing', 'warning', 'critical')
// Few ids, so that nodes register the same ids (moves, conflicts) and rewrite them often.
const id = fc.nat(6)

export const opArbitrary: fc.Arbitrary<SimOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('register' as const),
      node,
      id,
      name: fc.nat(2),
      variant: fc.nat(3),
      status,
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('deregister' as const), node, id }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('setStatus' as const), node, id, status }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restamp' as const), node }) },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('deliver' as const), k: fc.nat(999) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('duplicate' as const), k: fc.nat(999) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('drop' as const), k: fc.nat(999) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('sync' as const), a: node, b: node }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('exchange' as const), a: node, b: node }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('heartbeat' as const), node, states: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('disconnect' as const), a: node, b: node }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('partition' as const), mask: fc.nat(63) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('heal' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('restart' as const), node, disk: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.nat(1_500) }) },
)

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  nodes: fc.integer({ min: 2, max: 6 }),
  budget: fc.constantFrom(200, 200, 500, 2_000, 1 << 16),
  ops: fc.array(opArbitrary, { maxLength: 150, size: 'max' }),
})
