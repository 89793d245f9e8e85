import { parseClusterKey } from '@grapevine/gossip'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/program.js'
import { createMemoryIo } from './support/memory-io.js'

describe('grapevine keygen', () => {
  it('prints a fresh swarm.key that the agent accepts as its cluster key', async () => {
    const keys: string[] = []
    for (let i = 0; i < 2; i++) {
      const io = createMemoryIo()
      expect(await runCli(['keygen'], io)).toBe(0)
      keys.push(io.out())
    }
    const [first, second] = keys as [string, string]
    expect(first).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    expect(() => parseClusterKey(first)).not.toThrow()
    expect(second).not.toBe(first)
  })
})
