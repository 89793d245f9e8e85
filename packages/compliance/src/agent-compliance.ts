import type { Agent } from '@grapevine/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { lifecycleTests } from './compliance-lifecycle.js'
import { registryTests } from './compliance-registry.js'
import { watchTests } from './compliance-watch.js'

/** What a factory hands the suite: a started agent and how to dispose of what it built. */
export interface ComplianceSubject {
  agent: Agent
  /** Runs after the suite stopped the agent (if the test did not). */
  cleanup?: () => Promise<void>
}

export interface ComplianceOptions {
  /** Deadline of every wait for a condition, in milliseconds. @default 5000 */
  timeoutMs?: number
}

/** What each section of the suite sees while a test runs. */
export interface ComplianceContext {
  /** The fresh agent of the current test. */
  readonly agent: Agent
  /** Deadline of every wait for a condition. */
  readonly timeoutMs: number
}

/**
 * The behaviour every `Agent` implementation promises, as vitest tests: local and networked
 * agents run the same suite. Each test gets a fresh agent from `factory` and only uses the
 * public interface. Waits are on conditions with a deadline (a networked agent's own writes
 * are visible locally at once; a deadline keeps slow machines honest without sleeping).
 * Service names are unique per test, so agents may share a cluster.
 *
 * @example
 * agentComplianceSuite('local agent', async () => ({ agent: createLocalAgent() }))
 */
export function agentComplianceSuite(
  name: string,
  factory: () => Promise<ComplianceSubject>,
  options: ComplianceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 5_000
  let subject: ComplianceSubject | undefined

  const context = (): ComplianceContext => {
    if (subject === undefined) throw new Error('agent compliance: no agent (factory failed?)')
    return { agent: subject.agent, timeoutMs }
  }

  describe(`${name}: Agent compliance`, () => {
    beforeEach(async () => {
      subject = await factory()
      await subject.agent.ready
    })

    afterEach(async () => {
      const current = subject
      subject = undefined
      if (current === undefined) return
      // stop() is idempotent, so stopping an agent the test already stopped or left is fine.
      await current.agent.stop()
      await current.cleanup?.()
    })

    it('reports who it is and that it is ready', async () => {
      const { agent } = context()
      expect(typeof agent.peerId).toBe('string')
      expect(agent.peerId.length).toBeGreaterThan(0)
      expect(Array.isArray(agent.addresses)).toBe(true)
      await expect(agent.ready).resolves.toBeUndefined()
      const self = agent.members().filter((member) => member.self)
      expect(self).toHaveLength(1)
      expect(self[0]).toMatchObject({ id: agent.peerId, state: 'alive', self: true })
      expect(agent.conflicts()).toEqual([])
    })

    registryTests(context)
    watchTests(context)
    lifecycleTests(context)
  })
}
