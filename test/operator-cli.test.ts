/**
 * What an operator coming from Consul does with one `grapevine agent` process: names the node,
 * declares services in a config dir and reloads it with SIGHUP, registers with a TTL check and
 * reads its id back, asks `grapevine info`, and stops the agent with `grapevine leave`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceInstance } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnAgent } from '../packages/cli/src/demo/agent-process.js'
import { CLI_COMMAND } from '../packages/cli/src/demo/demo-launchers.js'
import { type CliAgent, grapevine, startCliAgent, stopCliAgent } from './support/cli-agents.js'

let root: string
let configDir: string
let agent: CliAgent
let env: Record<string, string>

async function service(name: string): Promise<ServiceInstance[]> {
  const res = await fetch(`${agent.httpUrl}/v1/services/${name}?all=true`)
  return (await res.json()) as ServiceInstance[]
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `grapevine-operator-${process.pid}-`))
  configDir = join(root, 'grapevine.d')
  await mkdir(configDir)
  await writeFile(
    join(configDir, 'web.json'),
    JSON.stringify({
      service: {
        name: 'cfg-web',
        id: 'cfg-web-1',
        port: 8080,
        tags: ['v1'],
        check: { ttl: '30s', id: 'beat' },
      },
    }),
  )
  agent = await startCliAgent({
    name: 'op',
    cluster: `operator-${process.pid}`,
    root,
    extraArgs: ['--node-name', 'op-1', '--config-dir', configDir],
  })
  env = { GRAPEVINE_HTTP_ADDR: agent.httpAddr }
})

afterAll(async () => {
  await stopCliAgent(agent)
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe('one agent, as an operator runs it', () => {
  // Issue 12 (node names, --config-dir): config-dir services at start and on SIGHUP.
  it('registers the config dir at start and follows it on SIGHUP', async () => {
    expect(await service('cfg-web')).toMatchObject([
      { id: 'cfg-web-1', tags: ['v1'], endpoints: ['http://127.0.0.1:8080'] },
    ])
    await writeFile(
      join(configDir, 'web.json'),
      JSON.stringify({ service: { name: 'cfg-web', id: 'cfg-web-1', port: 8080, tags: ['v2'] } }),
    )
    await writeFile(join(configDir, 'db.json'), JSON.stringify({ service: { name: 'cfg-db' } }))
    agent.kill('SIGHUP')
    await waitFor('the reloaded definitions', async () => {
      const [web] = await service('cfg-web')
      return web?.tags[0] === 'v2' && (await service('cfg-db')).length === 1
    })
  })

  // Issue 12, friction points 2 (register prints its checks' ids, errors name CLI commands)
  // and 3 (a bare number is milliseconds everywhere, `--ttl-check 15000` included).
  it('prints the ids of the checks `register` created; a bare TTL number is milliseconds', async () => {
    const result = await grapevine(
      ['register', '--name', 'worker', '--id', 'worker-1', '--ttl-check', '15000'],
      env,
    )
    expect(result.stderr).toBe('')
    expect(result.stdout).toContain('Registered worker-1 (worker)')
    expect(result.stdout).toContain('check ttl-0: ttl TTL 15s (critical)')
    expect(result.stdout).toContain('grapevine ttl worker-1 ttl-0 pass')
    expect((await grapevine(['ttl', 'worker-1', 'ttl-0', 'pass'], env)).code).toBe(0)
    const unknown = await grapevine(['ttl', 'worker-1', 'nope', 'pass'], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('`grapevine instances`')
  })

  // Issue 12, friction point 10 (`grapevine info`), and node names.
  it('shows who it is with `grapevine info`, and its name in members and metrics', async () => {
    const info = await grapevine(['info'], env)
    expect(info.code).toBe(0)
    expect(info.stdout).toContain('node_name = op-1')
    expect(info.stdout).toContain(`peer_id = ${agent.peerId}`)
    expect(info.stdout).toContain(`cluster = operator-${process.pid}`)
    const members = await grapevine(['members'], env)
    expect(members.stdout).toContain('op-1')
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text()
    expect(metrics).toContain(`grapevine_node_info{node_name="op-1",peer_id="${agent.peerId}"} 1`)
  })

  // Issue 12, friction point 10 (`grapevine leave`).
  it('leaves the cluster gracefully and exits on `grapevine leave`', async () => {
    const left = await grapevine(['leave'], env)
    expect(left.code).toBe(0)
    expect(left.stdout).toContain('op-1 is leaving the cluster')
    expect(await agent.exited).toBe(0)
  })
})

// Issue 12, friction point 10: a one-flag start for trying Grapevine out, as Consul's -dev.
describe('grapevine agent --dev', () => {
  it('starts one memory-only agent on 127.0.0.1 in cluster dev', async () => {
    const dev = await spawnAgent({
      name: 'dev',
      command: CLI_COMMAND,
      // Only the ports are given, so that the test never collides with another agent; the
      // info level shows the "agent started" line the launcher waits for (--dev logs warnings).
      args: [
        '--dev',
        '--http-addr',
        '127.0.0.1:0',
        '--dns-addr',
        '127.0.0.1:0',
        '--log-level',
        'info',
      ],
      startTimeoutMs: 30_000,
      signal: new AbortController().signal,
    })
    try {
      const info = await grapevine(['info'], {
        GRAPEVINE_HTTP_ADDR: dev.httpUrl.replace('http://', ''),
      })
      expect(info.stdout).toContain('cluster = dev')
      expect(dev.addresses.length).toBeGreaterThan(0)
      expect(dev.addresses.every((address) => address.startsWith('/ip4/127.0.0.1/'))).toBe(true)
      expect(dev.logTail(50)).toContain('"dataDir":null')
      expect(dev.logTail(50)).toContain('"mdns":false')
      expect(dev.logTail(50)).toContain(`dashboard  ${dev.httpUrl}/ui/`)
    } finally {
      dev.kill('SIGTERM')
    }
    expect(await dev.exited).toBe(0)
  })
})
