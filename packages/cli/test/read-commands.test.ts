import type { Conflict, Member } from '@grapevine/core'
import { describe, expect, it } from 'vitest'
import { startTestServer } from './support/api-server.js'
import { useCliTest } from './support/cli-test.js'
import { createMemoryIo } from './support/memory-io.js'

const cli = useCliTest()
const { server, run, seed } = cli

describe('grapevine members', () => {
  it('prints a table with this node marked', async () => {
    expect(await run('members')).toBe(0)
    expect(cli.io.out()).toMatch(
      /^ {2}NAME +PEER ID +STATE +GEN +LAST HEARD +ADDRESSES\n\* - +node-a +alive +\d+ +- +-\n/,
    )
    expect(cli.io.out()).toContain('1 members (1 alive); * = this node')
  })

  it('prints JSON with --json', async () => {
    expect(await run('members', '--json')).toBe(0)
    const members = JSON.parse(cli.io.out()) as Member[]
    expect(members).toMatchObject([{ id: 'node-a', state: 'alive', self: true }])
  })
})

describe('grapevine services', () => {
  // Issue 12, friction point 5: counts by health.
  it('prints one row per service with counts by health', async () => {
    await seed()
    // Every service, all-critical ones too: web-2 is critical and still counted.
    expect(await run('services')).toBe(0)
    expect(cli.io.out()).toBe(
      [
        'SERVICE  INSTANCES  PASSING  WARNING  CRITICAL  VERSIONS  TAGS',
        'db       1          1        0        0         -         -',
        'web      2          1        0        1         v1,v2     edge',
        '',
      ].join('\n'),
    )
  })

  // Issue 12, friction point 5: every service is listed, all-critical ones too; `--passing`.
  it('lists a service whose instances are all critical, and --passing leaves it out', async () => {
    await cli.server.agent.register({ id: 'down-1', name: 'down', status: 'critical' })
    await cli.server.agent.register({ id: 'slow-1', name: 'slow', status: 'warning' })
    await cli.server.agent.register({ id: 'ok-1', name: 'ok' })
    expect(await run('services')).toBe(0)
    expect(cli.io.out()).toContain('down     1          0        0        1')
    cli.io = createMemoryIo({ env: cli.io.env as Record<string, string> })
    expect(await run('services', '--passing', '--json')).toBe(0)
    expect(Object.keys(JSON.parse(cli.io.out()))).toEqual(['ok'])
  })

  it('filters by tag and prints JSON', async () => {
    await seed()
    expect(await run('services', '--tag', 'edge', '--json')).toBe(0)
    const services = JSON.parse(cli.io.out())
    expect(Object.keys(services)).toEqual(['web'])
    expect(services.web[0].id).toBe('web-1')
  })

  it('says so when nothing is registered', async () => {
    expect(await run('services')).toBe(0)
    expect(cli.io.out()).toBe('No services registered.\n')
  })
})

describe('grapevine service NAME', () => {
  it('prints the instances as a table', async () => {
    await seed()
    expect(await run('service', 'web', '--all')).toBe(0)
    expect(cli.io.out()).toBe(
      [
        'ID     VERSION  STATUS    ENDPOINTS              TAGS  METADATA  NODE',
        'web-1  v1       passing   http://127.0.0.1:8080  edge  zone=a    node-a',
        'web-2  v2       critical  -                      -     -         node-a',
        '',
      ].join('\n'),
    )
  })

  // Friction point 6: the checks come with the instance, from whichever node owns it.
  it('shows the state of each check every instance carries, in the table and in JSON', async () => {
    await seed()
    const check = {
      id: 'http-0',
      name: 'HTTP GET /health',
      status: 'passing' as const,
      output: '200 OK',
    }
    const [web1] = server.agent.getService('web')
    const remote = { ...web1!, node: '12D3KooWremoteremote', checks: [check] }
    const stub = await startTestServer({
      agent: { ...server.agent, service: () => [remote] },
    })
    try {
      cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: stub.addr } })
      expect(await run('service', 'web')).toBe(0)
      expect(cli.io.out()).toBe(
        [
          'ID     VERSION  STATUS   ENDPOINTS              TAGS  METADATA  NODE       CHECKS',
          'web-1  v1       passing  http://127.0.0.1:8080  edge  zone=a    …teremote  http-0:passing',
          '',
        ].join('\n'),
      )
      cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: stub.addr } })
      expect(await run('service', 'web', '--json')).toBe(0)
      expect(JSON.parse(cli.io.out())[0].checks).toEqual([check])
    } finally {
      await stub.api.close()
    }
  })

  // Issue 12, friction point 4: `--meta K=V`, the syntax of the HTTP query string too.
  it('applies filters and prints JSON', async () => {
    await seed()
    expect(await run('service', 'web', '--meta', 'zone=a', '--tag', 'edge', '--json')).toBe(0)
    expect(JSON.parse(cli.io.out()).map((i: { id: string }) => i.id)).toEqual(['web-1'])
    cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: server.addr } })
    expect(await run('service', 'web', '--version', 'v2', '--json')).toBe(0)
    expect(JSON.parse(cli.io.out())).toEqual([])
  })

  it('says so when the service has no instances', async () => {
    expect(await run('service', 'nothing')).toBe(0)
    expect(cli.io.out()).toBe('No instances of nothing.\n')
  })
})

describe('grapevine conflicts', () => {
  it('prints conflicts as a table and as JSON', async () => {
    await seed()
    const winner = server.agent.getService('web')[0]!
    const conflict: Conflict = { id: 'web-1', winner, claimants: ['node-a', '12D3KooWxyzxyzxyzB'] }
    const stub = await startTestServer({ agent: { ...server.agent, conflicts: () => [conflict] } })
    try {
      cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: stub.addr } })
      expect(await run('conflicts')).toBe(0)
      expect(cli.io.out()).toBe(
        'ID     SERVICE  WINNER  CLAIMANTS\nweb-1  web      node-a  node-a,…zxyzxyzB\n',
      )
      cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: stub.addr } })
      expect(await run('conflicts', '--json')).toBe(0)
      expect(JSON.parse(cli.io.out())).toMatchObject([
        { id: 'web-1', claimants: ['node-a', '12D3KooWxyzxyzxyzB'] },
      ])
    } finally {
      await stub.api.close()
    }
  })

  it('says when there are none', async () => {
    expect(await run('conflicts')).toBe(0)
    expect(cli.io.out()).toBe('No conflicts.\n')
  })
})

describe('grapevine instances', () => {
  it("prints this agent's instances with their checks, and JSON", async () => {
    await seed()
    Object.assign(server.agent, {
      checks: (id: string) =>
        id === 'web-1'
          ? [
              { id: 'ttl-0', status: 'passing', output: 'ok' },
              { id: 'http-1', status: 'critical', output: '' },
            ]
          : undefined,
    })
    expect(await run('instances')).toBe(0)
    expect(cli.io.out()).toBe(
      [
        'ID     SERVICE  STATUS    CHECKS                         ENDPOINTS',
        'db-1   db       passing   -                              -',
        'web-1  web      passing   ttl-0:passing,http-1:critical  http://127.0.0.1:8080',
        'web-2  web      critical  -                              -',
        '',
        'Check output:',
        '  web-1/ttl-0: ok',
        '',
      ].join('\n'),
    )
    cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: server.addr } })
    expect(await run('instances', '--json')).toBe(0)
    const instances = JSON.parse(cli.io.out())
    expect(instances.map((i: { id: string }) => i.id)).toEqual(['db-1', 'web-1', 'web-2'])
    expect(instances[1].checks[0]).toEqual({ id: 'ttl-0', status: 'passing', output: 'ok' })
  })

  it('says when there are none', async () => {
    expect(await run('instances')).toBe(0)
    expect(cli.io.out()).toBe('No instances registered on this agent.\n')
  })
})
