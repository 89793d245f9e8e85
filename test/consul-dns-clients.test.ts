/**
 * Existing clients against a Grapevine cluster: three `grapevine agent` processes on 127.0.0.1,
 * each client talking to one agent and seeing what was registered on another. The clients are
 * real: the `consul` npm client, Node's dns.Resolver (c-ares) and `dig` (Debian's dnsutils,
 * installed by the test command from scripts/test-deps.txt).
 */
import { execFile } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { waitFor } from '@grapevine/core/testing'
import Consul from 'consul'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliAgent, startCliAgent, stopCliAgent } from './support/cli-agents.js'

const exec = promisify(execFile)
let root: string
const agents: CliAgent[] = []

function consulFor(agent: CliAgent): Consul {
  const url = new URL(agent.httpUrl)
  return new Consul({ host: url.hostname, port: Number(url.port) })
}

function resolverFor(agent: CliAgent): Resolver {
  const resolver = new Resolver({ timeout: 3000, tries: 2 })
  resolver.setServers([agent.dnsAddr!])
  return resolver
}

/** `dig` against an agent's DNS; returns its full output. */
async function dig(agent: CliAgent, ...args: string[]): Promise<string> {
  const [host, port] = agent.dnsAddr!.split(':') as [string, string]
  const { stdout } = await exec('dig', [`@${host}`, '-p', port, '+time=3', '+tries=1', ...args])
  return stdout
}

/** The records of dig's answer section, as [type, data] pairs. */
function answerSection(output: string): Array<[string, string]> {
  const section = output.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? ''
  return section
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const parts = line.split(/\s+/)
      return [parts[3]!, parts.slice(4).join(' ')]
    })
}

type HealthEntry = { Service: { ID: string; Address: string; Port: number } }

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `grapevine-clients-${process.pid}-`))
  const cluster = `clients-${process.pid}-${Date.now()}`
  agents.push(await startCliAgent({ name: 'agent-1', cluster, root }))
  const seed = agents[0]!.addresses[0]!
  agents.push(
    ...(await Promise.all(
      ['agent-2', 'agent-3'].map((name) =>
        startCliAgent({ name, cluster, root, bootstrap: [seed] }),
      ),
    )),
  )
  for (const agent of agents) expect(agent.dnsAddr).toMatch(/^127\.0\.0\.1:\d+$/)
  await waitFor(
    'every agent to see three alive members',
    async () => {
      const counts = await Promise.all(
        agents.map(async (agent) => ((await consulFor(agent).agent.members()) as unknown[]).length),
      )
      return counts.every((count) => count === 3)
    },
    { timeoutMs: 20_000 },
  )
})

afterAll(async () => {
  await Promise.all(agents.map((agent) => stopCliAgent(agent)))
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe('the consul npm client', () => {
  it('registers on one agent, sees it passing from another after a TTL pass, and deregisters', async () => {
    const one = consulFor(agents[0]!)
    const two = consulFor(agents[1]!)
    await one.agent.service.register({
      name: 'api',
      id: 'api-1',
      address: '10.10.0.1',
      port: 8080,
      tags: ['edge'],
      check: { name: 'api heartbeat', ttl: '30s', timeout: '1s' },
    })
    // A TTL check starts critical (Consul's default): nothing passes yet, anywhere.
    const critical = (await two.health.service({ service: 'api' })) as HealthEntry[]
    expect((await two.health.service({ service: 'api', passing: true })) as unknown[]).toEqual([])
    expect(critical.length).toBeLessThanOrEqual(1)
    await one.agent.check.pass('service:api-1')
    const seen = await waitFor('api-1 passing on agent 2', async () => {
      const entries = (await two.health.service({ service: 'api', passing: true })) as HealthEntry[]
      return entries.length === 1 && entries
    })
    expect(seen[0]!.Service).toMatchObject({ ID: 'api-1', Address: '10.10.0.1', Port: 8080 })

    await one.agent.service.deregister('api-1')
    await waitFor('api-1 gone on agent 3', async () => {
      const entries = (await consulFor(agents[2]!).health.service({ service: 'api' })) as unknown[]
      return entries.length === 0
    })
  })

  it('long-polls with a blocking query that returns on a change made on another agent', async () => {
    const watcher = consulFor(agents[2]!)
    const watch = watcher.watch({
      method: watcher.health.service,
      options: { service: 'orders', passing: 'true', wait: '30s' },
    })
    const changes: HealthEntry[][] = []
    watch.on('change', (data: HealthEntry[]) => changes.push(data))
    watch.on('error', () => {})
    try {
      await waitFor('the first (empty) answer', () => changes.length >= 1)
      expect(changes[0]).toEqual([])
      const startedAt = performance.now()
      await consulFor(agents[0]!).agent.service.register({
        name: 'orders',
        id: 'orders-1',
        address: '10.10.0.2',
        port: 9000,
      })
      const changed = await waitFor('the held query to return with orders-1', () =>
        changes.find((data) => data.length === 1),
      )
      expect(changed[0]!.Service.ID).toBe('orders-1')
      // Returned on the change, not at the end of the 30 s wait.
      expect(performance.now() - startedAt).toBeLessThan(5000)
    } finally {
      watch.end()
    }
  })
})

describe('DNS clients', () => {
  beforeAll(async () => {
    const one = consulFor(agents[0]!)
    await one.agent.service.register({
      name: 'web',
      id: 'web-1',
      address: '10.20.0.1',
      port: 8080,
      tags: ['edge'],
    })
    await one.agent.service.register({ name: 'web', id: 'web-2', address: '10.20.0.2', port: 8081 })
    await waitFor('web on agent 2 and 3', async () => {
      const counts = await Promise.all(
        agents
          .slice(1)
          .map(async (a) => ((await consulFor(a).health.service('web')) as unknown[]).length),
      )
      return counts.every((count) => count === 2)
    })
  })

  it('Node’s dns.Resolver answers A, SRV, tag-filtered and NXDOMAIN from another agent', async () => {
    const resolver = resolverFor(agents[1]!)
    expect((await resolver.resolve4('web.service.grapevine')).sort()).toEqual([
      '10.20.0.1',
      '10.20.0.2',
    ])
    const srv = await resolver.resolveSrv('_web._tcp.service.grapevine')
    expect(srv.map((r) => [r.name, r.port]).sort()).toEqual([
      ['0a140001.addr.grapevine', 8080],
      ['0a140002.addr.grapevine', 8081],
    ])
    expect(await resolver.resolve4('edge.web.service.grapevine')).toEqual(['10.20.0.1'])
    expect(await resolver.resolve4('_web._edge.service.grapevine')).toEqual(['10.20.0.1'])
    await expect(resolver.resolve4('nope.service.grapevine')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    })
  })

  it('dig answers A, SRV with additional A records, tag-filtered, and NXDOMAIN with the SOA', async () => {
    const agent = agents[2]!
    const a = await dig(agent, 'web.service.grapevine', 'A')
    expect(a).toMatch(/status: NOERROR/)
    expect(a).toMatch(/flags: qr aa/)
    expect(
      answerSection(a)
        .map(([, data]) => data)
        .sort(),
    ).toEqual(['10.20.0.1', '10.20.0.2'])
    const srv = await dig(agent, '_web._tcp.service.grapevine', 'SRV')
    expect(
      answerSection(srv)
        .map(([type, data]) => [type, data])
        .sort(),
    ).toEqual([
      ['SRV', '1 1 8080 0a140001.addr.grapevine.'],
      ['SRV', '1 1 8081 0a140002.addr.grapevine.'],
    ])
    expect(srv).toMatch(
      /ADDITIONAL SECTION:[\s\S]*0a140001\.addr\.grapevine\.\s+0\s+IN\s+A\s+10\.20\.0\.1/,
    )
    expect(answerSection(await dig(agent, 'edge.web.service.grapevine'))).toEqual([
      ['A', '10.20.0.1'],
    ])
    const missing = await dig(agent, 'nope.service.grapevine')
    expect(missing).toMatch(/status: NXDOMAIN/)
    expect(missing).toMatch(
      /AUTHORITY SECTION:\s+grapevine\.\s+0\s+IN\s+SOA\s+ns\.grapevine\. hostmaster\.grapevine\./,
    )
    const nodata = await dig(agent, 'web.service.grapevine', 'TXT')
    expect(nodata).toMatch(/status: NOERROR/)
    expect(nodata).toMatch(/ANSWER: 0, AUTHORITY: 1/)
  })

  it('a check turning critical leaves DNS and ?passing within its detection time', async () => {
    const ttlMs = 2000
    const one = consulFor(agents[0]!)
    await one.agent.service.register({
      name: 'flaky',
      id: 'flaky-1',
      address: '10.30.0.1',
      port: 80,
      check: { name: 'flaky ttl', ttl: `${ttlMs}ms`, timeout: '1s' },
    })
    await one.agent.check.pass('service:flaky-1')
    const resolver = resolverFor(agents[1]!)
    await waitFor(
      'flaky in DNS on agent 2',
      async () => (await resolver.resolve4('flaky.service.grapevine').catch(() => [])).length === 1,
    )
    const lastPass = performance.now()
    // No more passes: the TTL runs out on agent 1, and the status replicates.
    const gone = await waitFor(
      'flaky out of DNS on agent 2 and out of ?passing on agent 3',
      async () => {
        const dns = await resolver.resolve4('flaky.service.grapevine').catch(() => [])
        const passing = (await consulFor(agents[2]!).health.service({
          service: 'flaky',
          passing: true,
        })) as unknown[]
        return dns.length === 0 && passing.length === 0 && performance.now()
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    )
    // Detection time: the TTL plus propagation (a heartbeat's worth on `lan`).
    expect(gone - lastPass).toBeLessThan(ttlMs + 1000)
    expect(gone - lastPass).toBeGreaterThanOrEqual(ttlMs - 100)
  })

  it('a 300-instance service sets TC over UDP and answers in full over TCP', async () => {
    const agent = agents[0]!
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        fetch(`${agent.httpUrl}/v1/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            id: `big-${i}`,
            name: 'big',
            endpoints: [`http://10.40.${i >> 8}.${i & 255}:80`],
          }),
        }).then((res) => expect(res.status).toBe(200)),
      ),
    )
    const other = agents[1]!
    await waitFor('300 instances of big on agent 2', async () => {
      const res = await fetch(`${other.httpUrl}/v1/services/big`)
      return ((await res.json()) as unknown[]).length === 300
    })
    const udp = await dig(other, '+ignore', '+notcp', 'big.service.grapevine')
    expect(udp).toMatch(/flags: qr aa tc/)
    const tcp = await dig(other, '+tcp', 'big.service.grapevine')
    expect(tcp).not.toMatch(/flags: qr aa tc/)
    expect(new Set(answerSection(tcp).map(([, data]) => data)).size).toBe(300)
    // c-ares (Node) retries over TCP by itself when it sees TC.
    expect(await resolverFor(other).resolve4('big.service.grapevine')).toHaveLength(300)
  })
})
