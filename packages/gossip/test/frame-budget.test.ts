import { describe, expect, it } from 'vitest'
import { SyncError } from '../src/errors.js'
import { budgetedLengthDecoder, createFrameBudget } from '../src/frame-budget.js'

const list = (...bytes: number[]) => ({ byteLength: bytes.length, get: (i: number) => bytes[i]! })

describe('sync frame budget (finding 7)', () => {
  it('holds one budget across every peer and a share per peer', () => {
    const budget = createFrameBudget(10, 6)
    expect(budget.tryReserve('a', 6)).toBe(true)
    expect(budget.tryReserve('a', 1)).toBe(false) // a's share is full
    expect(budget.tryReserve('b', 4)).toBe(true)
    expect(budget.tryReserve('c', 1)).toBe(false) // the node's budget is full
    budget.release('a', 6)
    expect(budget.tryReserve('c', 1)).toBe(true)
    expect(budget.inFlight).toBe(5)
  })

  it('reserves a frame from its length prefix, before the body is read', () => {
    const budget = createFrameBudget(4 * 1024 * 1024, 4 * 1024 * 1024)
    const held = { bytes: 0 }
    const decode = budgetedLengthDecoder(budget, 'a', 4 * 1024 * 1024, held)
    expect(() => decode(list(0x80))).toThrow(RangeError) // incomplete prefix
    expect(decode(list(0x80, 0x80, 0x80, 0x02))).toBe(4 * 1024 * 1024)
    expect(held.bytes).toBe(4 * 1024 * 1024)
    // A second full frame from anyone does not fit until the first is released.
    const other = budgetedLengthDecoder(budget, 'b', 4 * 1024 * 1024, { bytes: 0 })
    expect(() => other(list(0x80, 0x80, 0x80, 0x02))).toThrow(SyncError)
    // Endless continuation bytes are refused, not read forever.
    expect(() => decode(list(0x80, 0x80, 0x80, 0x80, 0x80, 0x80))).toThrow(SyncError)
  })
})
