/**
 * Issue 12, friction point 8: the HTTP and DNS ports are bound before the node joins the
 * cluster, so a port already in use fails before any gossip starts. A running agent holds its
 * ports; a second `grapevine agent` bootstrapping to it is given one of them. It must exit 1
 * with a message naming the address and the flag, and it must never have started its node: its
 * data dir holds no identity (the agent creates one before libp2p starts), and the running
 * agent never heard of it (a member that had joined and died would stay listed as dead).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Member } from '@grapevine/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loopbackAgentArgs } from '../packages/cli/src/demo/loopback-launcher.js'
import { type CliAgent, grapevine, startCliAgent, stopCliAgent } from './support/cli-agents.js'

let root: string
let cluster: string
let running: CliAgent

async function membersOf(agent: CliAgent): Promise<Member[]> {
  return (await (await fetch(`${agent.httpUrl}/v1/members`)).json()) as Member[]
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `grapevine-ports-${process.pid}-`))
  cluster = `ports-${process.pid}-${Date.now()}`
  running = await startCliAgent({ name: 'running', cluster, root })
})

afterAll(async () => {
  await stopCliAgent(running)
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe('friction point 8: ports are bound before the node joins', () => {
  it.each([
    ['HTTP', '--http-addr', 'cannot serve the HTTP API on'],
    ['DNS', '--dns-addr', 'DNS interface'],
  ])('a taken %s port stops the agent before any gossip starts', async (_kind, flag, message) => {
    const taken = flag === '--http-addr' ? running.httpAddr : running.dnsAddr!
    const dataDir = join(root, `second-${flag.slice(2)}`)
    const args = loopbackAgentArgs({
      cluster,
      dataDir,
      bootstrap: [running.addresses[0]!],
      extraArgs: [flag, taken], // the last value of a flag wins
    })
    const result = await grapevine(['agent', ...args])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(message)
    expect(result.stderr).toContain(taken)
    expect(result.stderr).toContain('in use')
    expect(result.stderr).toContain(flag)
    // The node never started: no identity was made, and the running agent knows only itself.
    expect(existsSync(join(dataDir, 'identity.key'))).toBe(false)
    expect((await membersOf(running)).map((member) => member.id)).toEqual([running.peerId])
  })
})
