import type { Logger } from '@libp2p/interface'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSyncScheduler } from '../src/sync-scheduler.js'

const log = Object.assign(() => undefined, {
  error: () => undefined,
  trace: () => undefined,
  enabled: false,
}) as unknown as Logger

describe('periodic anti-entropy', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  /** Runs for `ms` with rounds every 1 s ± 25%; returns who was synced. */
  async function run(ms: number, agreeing: ReadonlySet<string>) {
    const synced: string[] = []
    const scheduler = createSyncScheduler(
      { syncInterval: 1_000, pullDelay: 10 },
      {
        sync: async (peer) => {
          synced.push(peer)
        },
        candidates: () => ['p1', 'p2', 'p3'],
        isConnected: () => true,
        busy: () => false,
        inAgreement: (peer) => agreeing.has(peer),
        log,
      },
    )
    scheduler.start()
    await vi.advanceTimersByTimeAsync(ms)
    scheduler.stop()
    return synced
  }

  it('skips peers whose digest tag agreed with ours', async () => {
    // 5 to 9 rounds: none is the tenth.
    const synced = await run(6_700, new Set(['p1', 'p3']))
    expect(synced.length).toBeGreaterThanOrEqual(5)
    expect(new Set(synced)).toEqual(new Set(['p2']))
  })

  it('runs no session while every peer agrees, but one every tenth round as a backstop', async () => {
    const everyone = new Set(['p1', 'p2', 'p3'])
    expect(await run(6_700, everyone)).toEqual([])
    // 20 to 33 rounds: two or three are a tenth.
    const backstop = await run(25_000, everyone)
    expect(backstop.length).toBeGreaterThanOrEqual(2)
    expect(backstop.length).toBeLessThanOrEqual(3)
  })
})
