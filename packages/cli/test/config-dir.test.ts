import { createLocalAgent, ValidationError } from '@grapevine/core'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { parseServiceFile } from '../src/config/service-definitions.js'
import { createConfigDirServices } from '../src/daemon/config-dir.js'

const DIR = '/etc/grapevine.d'

/** A config dir held in memory; tests edit `files` between loads, as an operator edits. */
function setup(files: Record<string, string>) {
  const agent = createLocalAgent({ nodeId: 'node-a' })
  const registered: unknown[] = []
  const services = createConfigDirServices({
    dir: DIR,
    agent: {
      // The local agent runs no checks (and refuses them): they are recorded, not run.
      register: (registration) => {
        registered.push(registration)
        const { checks: _checks, ...instance } = registration as typeof registration & {
          checks?: unknown
        }
        return agent.register(instance)
      },
      deregister: (id) => agent.deregister(id),
    },
    listDir: () => Object.keys(files),
    readFile: (path) => {
      const text = files[path.slice(DIR.length + 1)]
      if (text === undefined) throw new Error(`ENOENT ${path}`)
      return text
    },
    logger: pino({ level: 'silent' }),
  })
  return { agent, services, registered }
}

const web = {
  service: {
    name: 'web',
    id: 'web-1',
    tags: ['edge'],
    address: '10.0.0.7',
    port: 8080,
    meta: { zone: 'a', version: 'v1.2.0' },
    check: { http: 'http://10.0.0.7:8080/health', interval: '10s', timeout: '1s' },
  },
}

describe('Consul-style service definitions', () => {
  it('maps a `service` block with its check to a registration', () => {
    const [definition] = parseServiceFile('web.json', JSON.stringify(web))
    expect(definition!.registration).toEqual({
      id: 'web-1',
      name: 'web',
      tags: ['edge'],
      metadata: { zone: 'a', version: 'v1.2.0' },
      version: 'v1.2.0',
      endpoints: ['http://10.0.0.7:8080'],
      checks: [
        { kind: 'http', url: 'http://10.0.0.7:8080/health', interval: '10s', timeout: '1s' },
      ],
    })
  })

  it('reads `services` lists, CamelCase keys and TTL/TCP checks; the id defaults to the name', () => {
    const text = JSON.stringify({
      Services: [
        {
          Name: 'worker',
          Checks: [
            { TTL: '30s', CheckID: 'beat', DeregisterCriticalServiceAfter: '5m' },
            { TCP: '127.0.0.1:5432', Interval: '5s', Status: 'passing' },
          ],
        },
      ],
    })
    const [definition] = parseServiceFile('w.json', text)
    expect(definition!.registration).toEqual({
      id: 'worker',
      name: 'worker',
      checks: [
        { kind: 'ttl', ttl: '30s', id: 'beat', deregisterCriticalAfter: '5m' },
        { kind: 'tcp', address: '127.0.0.1:5432', interval: '5s', initialStatus: 'passing' },
      ],
    })
  })

  it.each([
    ['{', 'not valid JSON'],
    ['{"service": {"port": 80}}', 'invalid x.json: service.name: required'],
    ['{"servce": {"name": "a"}}', 'unknown key'],
    [
      '{"service": {"name": "a", "check": {"args": ["/bin/true"]}}}',
      'args checks are not supported',
    ],
  ])('refuses %s, naming the file and field', (text, message) => {
    expect(() => parseServiceFile('x.json', text)).toThrow(ValidationError)
    expect(() => parseServiceFile('x.json', text)).toThrow(message)
  })
})

describe('--config-dir', () => {
  it('registers every file at start, and on reload registers, updates and deregisters', async () => {
    const files: Record<string, string> = {
      'web.json': JSON.stringify(web),
      'db.json': JSON.stringify({ service: { name: 'db', port: 5432 } }),
      'notes.txt': 'not a definition',
    }
    const { agent, services, registered } = setup(files)
    // An instance registered over the API is never touched by the directory.
    await agent.register({ id: 'api-1', name: 'api' })

    expect(await services.load()).toEqual({
      registered: ['db', 'web-1'],
      deregistered: [],
      failed: [],
    })
    expect(
      agent
        .localInstances()
        .map((i) => i.id)
        .sort(),
    ).toEqual(['api-1', 'db', 'web-1'])
    expect(registered).toContainEqual(
      expect.objectContaining({ id: 'web-1', checks: [expect.objectContaining({ kind: 'http' })] }),
    )

    delete files['db.json']
    files['web.json'] = JSON.stringify({ service: { ...web.service, tags: ['edge', 'canary'] } })
    expect(await services.load()).toMatchObject({ registered: ['web-1'], deregistered: ['db'] })
    expect(
      agent
        .localInstances()
        .map((i) => i.id)
        .sort(),
    ).toEqual(['api-1', 'web-1'])
    expect(agent.service('web', { includeCritical: true })[0]!.tags).toEqual(['edge', 'canary'])
  })

  it('keeps what a broken file declared before, and reports it', async () => {
    const files: Record<string, string> = { 'web.json': JSON.stringify(web) }
    const { agent, services } = setup(files)
    await services.load()
    files['web.json'] = '{"service": {"name": "web", '
    const result = await services.load()
    expect(result.failed).toHaveLength(1)
    expect(result.failed[0]!.message).toContain('not valid JSON')
    expect(result.deregistered).toEqual([])
    expect(agent.localInstances().map((i) => i.id)).toEqual(['web-1'])
  })

  it('refuses an id declared in two files', async () => {
    const files = {
      'a.json': JSON.stringify({ service: { name: 'web', id: 'w' } }),
      'b.json': JSON.stringify({ service: { name: 'web', id: 'w' } }),
    }
    const { services, registered } = setup(files)
    const result = await services.load()
    expect(result.registered).toEqual(['w'])
    expect(registered).toHaveLength(1)
    expect(result.failed[0]!.message).toContain('also declared in /etc/grapevine.d/a.json')
  })
})
