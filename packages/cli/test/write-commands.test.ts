import { describe, expect, it } from 'vitest'
import { useCliTest } from './support/cli-test.js'
import { createMemoryIo } from './support/memory-io.js'

const cli = useCliTest()
const { server, run, seed } = cli

describe('grapevine register', () => {
  it('registers from flags and prints the id', async () => {
    const code = await run(
      'register',
      '--name',
      'api',
      '--id',
      'api-1',
      '--version',
      'v3',
      '--endpoint',
      'grpc://127.0.0.1:9000',
      '--endpoint',
      'http://127.0.0.1:9001',
      '--tag',
      'a',
      '--tag',
      'b',
      '--meta',
      'zone=z',
    )
    expect(code).toBe(0)
    expect(cli.io.out()).toBe('Registered api-1 (api)\n')
    expect(server.agent.getService('api')).toMatchObject([
      {
        id: 'api-1',
        version: 'v3',
        endpoints: ['grpc://127.0.0.1:9000', 'http://127.0.0.1:9001'],
        tags: ['a', 'b'],
        metadata: { zone: 'z' },
      },
    ])
  })

  it('registers from a JSON file with flags on top, and prints JSON', async () => {
    cli.io = createMemoryIo({
      env: { GRAPEVINE_HTTP_ADDR: server.addr },
      files: {
        'api.json': JSON.stringify({
          name: 'api',
          id: 'api-1',
          metadata: { zone: 'a', tier: 'x' },
        }),
      },
    })
    expect(
      await run('register', '-f', 'api.json', '--id', 'api-2', '--meta', 'zone=b', '--json'),
    ).toBe(0)
    expect(JSON.parse(cli.io.out())).toEqual({ id: 'api-2', checks: [] })
    expect(server.agent.getService('api')).toMatchObject([
      { id: 'api-2', metadata: { zone: 'b', tier: 'x' } },
    ])
  })

  it('sends check definitions from flags', async () => {
    const sent: unknown[] = []
    const original = server.agent.register.bind(server.agent)
    server.agent.register = async (registration) => {
      sent.push(registration)
      // The local agent runs no checks (and refuses the field); this test is about the body.
      const { checks: _checks, ...rest } = registration as typeof registration & {
        checks?: unknown
      }
      return original(rest)
    }
    const code = await run(
      'register',
      '--name',
      'api',
      '--http-check',
      'http://127.0.0.1:9/health',
      '--check-timeout',
      '2s',
      '--ttl-check',
      '30s',
      '--check',
      '{"kind":"tcp","address":"127.0.0.1:9","interval":"5s"}',
    )
    expect(code).toBe(0)
    expect(sent[0]).toMatchObject({
      checks: [
        { kind: 'http', url: 'http://127.0.0.1:9/health', interval: '10s', timeout: '2s' },
        { kind: 'ttl', ttl: '30s' },
        { kind: 'tcp', address: '127.0.0.1:9', interval: '5s' },
      ],
    })
  })

  // Issue 12, friction point 2: `register` prints the ids of the checks it created.
  it('prints the id of each check it created, and how to report a TTL one', async () => {
    server.agent.checks = (id) =>
      id === 'worker-1'
        ? [
            { id: 'ttl-0', kind: 'ttl', name: 'TTL 30s', status: 'critical' },
            {
              id: 'http-1',
              kind: 'http',
              name: 'HTTP GET http://127.0.0.1:9/',
              status: 'critical',
            },
          ]
        : undefined
    expect(await run('register', '--name', 'worker', '--id', 'worker-1')).toBe(0)
    expect(cli.io.out()).toBe(
      [
        'Registered worker-1 (worker)',
        '  check ttl-0: ttl TTL 30s (critical)',
        '  check http-1: http HTTP GET http://127.0.0.1:9/ (critical)',
        'Report TTL checks with: grapevine ttl worker-1 ttl-0 pass',
        '',
      ].join('\n'),
    )
  })

  it('prints the field of a validation error and exits 1, registering nothing', async () => {
    expect(await run('register', '--name', 'web', '--endpoint', 'nope')).toBe(1)
    expect(cli.io.err()).toBe(
      'error: invalid endpoints[0]: "nope" is not a URL (expected scheme://host:port)\n',
    )
    expect(server.agent.services().size).toBe(0)
  })

  it('rejects a malformed --meta before calling the agent', async () => {
    expect(await run('register', '--name', 'web', '--meta', 'zone')).toBe(1)
    expect(cli.io.err()).toBe('error: invalid meta: expected key=value, got "zone"\n')
  })
})

describe('grapevine deregister', () => {
  it('deregisters and confirms, in text and JSON', async () => {
    await seed()
    expect(await run('deregister', 'web-1')).toBe(0)
    expect(cli.io.out()).toBe('Deregistered web-1\n')
    expect(await run('deregister', 'db-1', '--json')).toBe(0)
    expect(cli.io.out()).toBe('Deregistered web-1\n{\n  "id": "db-1"\n}\n')
  })

  it('reports an unknown id', async () => {
    expect(await run('deregister', 'ghost')).toBe(1)
    expect(cli.io.err()).toContain('no instance with id "ghost" is registered on this node')
  })
})

describe('grapevine ttl', () => {
  it('reports to the agent, in text and JSON', async () => {
    const reports: unknown[] = []
    Object.assign(server.agent, { ttl: (...args: unknown[]) => reports.push(args) })
    expect(await run('ttl', 'web-1', 'ttl-0', 'pass')).toBe(0)
    expect(cli.io.out()).toBe('Reported pass for check ttl-0 of web-1\n')
    expect(await run('ttl', 'web-1', 'ttl-0', 'fail', '--note', 'disk full', '--json')).toBe(0)
    expect(cli.io.out()).toContain('"status": "fail"')
    expect(reports).toEqual([
      ['web-1', 'ttl-0', 'pass', undefined],
      ['web-1', 'ttl-0', 'fail', 'disk full'],
    ])
  })

  it('rejects a bad status and explains an agent without checks', async () => {
    expect(await run('ttl', 'web-1', 'ttl-0', 'ok')).toBe(1)
    expect(cli.io.err()).toBe('error: invalid status: must be one of pass, warn, fail\n')
    expect(await run('ttl', 'web-1', 'ttl-0', 'pass')).toBe(1)
    expect(cli.io.err()).toContain('TTL checks is not supported by this agent')
  })
})
