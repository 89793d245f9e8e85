/**
 * Issue 12, friction point 6: remote nodes show each instance's check states. Two `grapevine
 * agent` processes on 127.0.0.1; a TTL check registered on A must show, with its status and
 * output, on B: in the native HTTP API, in `grapevine service`, and in Consul's health route.
 * A status change made on A must then show on B. Before the fix, B saw only the instance's
 * aggregate status (checks never left their owner).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceInstance } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliAgent, grapevine, startCliAgent, stopCliAgent } from './support/cli-agents.js'

let root: string
let owner: CliAgent
let other: CliAgent

async function instanceOn(agent: CliAgent, name: string): Promise<ServiceInstance | undefined> {
  const res = await fetch(`${agent.httpUrl}/v1/services/${name}?all=true`)
  return ((await res.json()) as ServiceInstance[])[0]
}

interface ConsulCheck {
  CheckID: string
  Name: string
  Status: string
  Output: string
  ServiceID: string
}

async function consulChecks(agent: CliAgent, name: string): Promise<ConsulCheck[]> {
  const res = await fetch(`${agent.httpUrl}/v1/health/service/${name}`)
  const entries = (await res.json()) as { Checks: ConsulCheck[] }[]
  return entries.flatMap((entry) => entry.Checks)
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `grapevine-checks-${process.pid}-`))
  const cluster = `checks-${process.pid}-${Date.now()}`
  owner = await startCliAgent({ name: 'owner', cluster, root })
  other = await startCliAgent({ name: 'other', cluster, root, bootstrap: [owner.addresses[0]!] })
})

afterAll(async () => {
  await Promise.all([stopCliAgent(owner), stopCliAgent(other)])
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe('friction point 6: check states replicate to every node', () => {
  it("shows a check registered on A, with its status, on B, and follows A's status changes", async () => {
    const ownerEnv = { GRAPEVINE_HTTP_ADDR: owner.httpAddr }
    const otherEnv = { GRAPEVINE_HTTP_ADDR: other.httpAddr }
    const registered = await grapevine(
      ['register', '--name', 'billing', '--id', 'billing-1', '--ttl-check', '30s'],
      ownerEnv,
    )
    expect(registered.stderr).toBe('')

    // B holds the check as A replicated it: id, name, status (critical until the first pass).
    await waitFor('the instance and its check on B', async () => {
      const instance = await instanceOn(other, 'billing')
      return instance?.checks?.[0]?.id === 'ttl-0'
    })
    expect((await instanceOn(other, 'billing'))?.checks).toEqual([
      { id: 'ttl-0', name: 'TTL 30s', status: 'critical', output: '' },
    ])
    const listed = await grapevine(['service', 'billing', '--all'], otherEnv)
    expect(listed.stdout).toMatch(/CHECKS/)
    expect(listed.stdout).toContain('ttl-0:critical')
    expect(await consulChecks(other, 'billing')).toContainEqual(
      expect.objectContaining({
        CheckID: 'ttl-0',
        Name: 'TTL 30s',
        Status: 'critical',
        ServiceID: 'billing-1',
      }),
    )

    // The application reports on A; B shows the new status and the note as its output.
    const passed = await grapevine(
      ['ttl', 'billing-1', 'ttl-0', 'pass', '--note', 'queue depth 3'],
      ownerEnv,
    )
    expect(passed.code).toBe(0)
    await waitFor('the passing check on B', async () => {
      const check = (await instanceOn(other, 'billing'))?.checks?.[0]
      return check?.status === 'passing'
    })
    const instance = await instanceOn(other, 'billing')
    expect(instance?.status).toBe('passing')
    expect(instance?.checks?.[0]?.output).toBe('queue depth 3')
    expect(await consulChecks(other, 'billing')).toContainEqual(
      expect.objectContaining({ CheckID: 'ttl-0', Status: 'passing', Output: 'queue depth 3' }),
    )
    expect((await grapevine(['service', 'billing', '--json'], otherEnv)).stdout).toContain(
      '"status": "passing"',
    )
  })
})
