import type { Agent, Registration, ServiceEvent } from '@grapevine/core'
import { uniqueName, within } from '@grapevine/core/testing'
import { describe, expect, it, vi } from 'vitest'
import type { ComplianceContext } from './agent-compliance.js'

const ids = (list: readonly { id: string }[]) => list.map((instance) => instance.id).sort()

/** Everything the public interface shows about one service and this node's own instances. */
function snapshot(agent: Agent, name: string): string {
  return JSON.stringify({
    all: agent.service(name, { includeCritical: true }),
    healthy: agent.getService(name),
    local: agent.localInstances(),
    services: agent.services({ includeCritical: true }).get(name) ?? [],
  })
}

/**
 * Bad registrations: a patch over a valid one (`undefined` removes a field; `null` replaces
 * the whole registration) and the field the error must name (a prefix when it ends in `*`).
 */
const BAD_INPUT: [label: string, patch: Record<string, unknown> | null, field: string][] = [
  ['not an object', null, 'registration'],
  ['name missing', { name: undefined }, 'name'],
  ['name empty', { name: '' }, 'name'],
  ['name not a string', { name: 42 }, 'name'],
  ['name with a space', { name: 'bad name' }, 'name'],
  ['name too long', { name: 'n'.repeat(129) }, 'name'],
  ['id empty', { id: '' }, 'id'],
  ['id with a slash', { id: 'a/b' }, 'id'],
  ['id too long', { id: 'i'.repeat(129) }, 'id'],
  ['id not a string', { id: 7 }, 'id'],
  ['version not a string', { version: 1 }, 'version'],
  ['version too long', { version: 'v'.repeat(65) }, 'version'],
  ['metadata not an object', { metadata: 'zone=a' }, 'metadata'],
  ['metadata value not a string', { metadata: { zone: 1 } }, 'metadata.zone'],
  ['metadata key with a space', { metadata: { 'bad key': 'x' } }, 'metadata*'],
  [
    'metadata with too many pairs',
    { metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
    'metadata',
  ],
  ['endpoints not an array', { endpoints: 'http://10.0.0.1:80' }, 'endpoints'],
  ['endpoint not a URL', { endpoints: ['not a url'] }, 'endpoints[0]'],
  ['endpoint without a port', { endpoints: ['tcp://10.0.0.1'] }, 'endpoints[0]'],
  [
    'too many endpoints',
    { endpoints: Array.from({ length: 17 }, (_, i) => `http://10.0.0.1:${8000 + i}`) },
    'endpoints',
  ],
  ['tags not an array', { tags: 'edge' }, 'tags'],
  ['tag with a space', { tags: ['ok', 'has space'] }, 'tags[1]'],
  ['tag not a string', { tags: [1] }, 'tags[0]'],
  ['too many tags', { tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, 'tags'],
  ['status unknown', { status: 'sick' }, 'status'],
]

export function registryTests(context: () => ComplianceContext): void {
  const eventually = (check: () => void) =>
    vi.waitFor(check, { timeout: context().timeoutMs, interval: 5 })

  describe('register', () => {
    it('generates an id and fills in defaults and ownership', async () => {
      const { agent } = context()
      const name = uniqueName('gen')
      const id = await agent.register({ name })
      expect(typeof id).toBe('string')
      expect(id.length).toBeGreaterThan(0)
      await eventually(() => expect(ids(agent.getService(name))).toEqual([id]))
      expect(agent.getService(name)[0]).toEqual({
        id,
        name,
        version: '',
        metadata: {},
        endpoints: [],
        tags: [],
        status: 'passing',
        node: agent.peerId,
      })
      expect(agent.stats().instances).toBeGreaterThanOrEqual(1)
      expect(agent.stats().claims).toBeGreaterThanOrEqual(1)
    })

    it('keeps an explicit id and every field', async () => {
      const { agent } = context()
      const name = uniqueName('explicit')
      const registration: Registration = {
        id: `${name}-1`,
        name,
        version: 'v1.2.3',
        metadata: { zone: 'a', weight: '10' },
        endpoints: ['grpc://10.0.0.5:9000?isSecure=false', 'http://10.0.0.5:8080'],
        tags: ['edge', 'eu'],
        status: 'warning',
      }
      await expect(agent.register(registration)).resolves.toBe(`${name}-1`)
      await eventually(() =>
        expect(agent.getService(name)).toEqual([{ ...registration, node: agent.peerId }]),
      )
      expect(agent.localInstances().filter((i) => i.name === name)).toHaveLength(1)
    })

    it('updates in place when an id is registered again', async () => {
      const { agent } = context()
      const name = uniqueName('again')
      const id = await agent.register({ name, version: 'v1' })
      await expect(agent.register({ id, name, version: 'v2' })).resolves.toBe(id)
      await eventually(() => expect(agent.getService(name).map((i) => i.version)).toEqual(['v2']))
      expect(agent.localInstances().filter((i) => i.id === id)).toHaveLength(1)
    })
  })

  describe('deregister', () => {
    it('removes the instance everywhere', async () => {
      const { agent } = context()
      const name = uniqueName('dereg')
      const keep = await agent.register({ name })
      const gone = await agent.register({ name })
      await eventually(() => expect(agent.getService(name)).toHaveLength(2))
      await agent.deregister(gone)
      await eventually(() => expect(ids(agent.getService(name))).toEqual([keep]))
      expect(agent.localInstances().some((i) => i.id === gone)).toBe(false)
    })

    it('throws NotFoundError for an unknown or already removed id', async () => {
      const { agent } = context()
      await expect(agent.deregister(uniqueName('unknown'))).rejects.toMatchObject({
        code: 'ERR_NOT_FOUND',
      })
      const id = await agent.register({ name: uniqueName('twice') })
      await agent.deregister(id)
      await expect(agent.deregister(id)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND', id })
    })
  })

  describe('queries', () => {
    async function fixture(agent: Agent) {
      const name = uniqueName('query')
      const base = { name, endpoints: ['http://10.0.0.1:80'] }
      await agent.register({
        ...base,
        id: `${name}-a`,
        version: 'v1',
        tags: ['edge', 'eu'],
        metadata: { zone: 'a' },
      })
      await agent.register({
        ...base,
        id: `${name}-b`,
        version: 'v2',
        tags: ['eu'],
        metadata: { zone: 'b' },
      })
      await agent.register({
        ...base,
        id: `${name}-c`,
        version: 'v1',
        tags: ['edge'],
        status: 'critical',
      })
      await agent.register({
        ...base,
        id: `${name}-d`,
        version: 'v1',
        status: 'warning',
        metadata: { zone: 'a', tier: 'x' },
      })
      await eventually(() => expect(agent.service(name, { includeCritical: true })).toHaveLength(4))
      const short = (list: readonly { id: string }[]) =>
        ids(list).map((id) => id.slice(name.length + 1))
      return { name, short }
    }

    it('getService returns healthy instances (warning yes, critical no)', async () => {
      const { agent } = context()
      const { name, short } = await fixture(agent)
      expect(short(agent.getService(name))).toEqual(['a', 'b', 'd'])
      expect(agent.getService(uniqueName('none'))).toEqual([])
    })

    it('service filters by tags, version, metadata and health', async () => {
      const { agent } = context()
      const { name, short } = await fixture(agent)
      expect(short(agent.service(name))).toEqual(['a', 'b', 'd'])
      expect(short(agent.service(name, { tags: ['edge'] }))).toEqual(['a'])
      expect(short(agent.service(name, { tags: ['edge', 'eu'] }))).toEqual(['a'])
      expect(short(agent.service(name, { tags: ['edge'], includeCritical: true }))).toEqual([
        'a',
        'c',
      ])
      expect(short(agent.service(name, { version: 'v1' }))).toEqual(['a', 'd'])
      expect(short(agent.service(name, { metadata: { zone: 'a' } }))).toEqual(['a', 'd'])
      expect(short(agent.service(name, { metadata: { zone: 'a', tier: 'x' } }))).toEqual(['d'])
      expect(short(agent.service(name, { includeCritical: true }))).toEqual(['a', 'b', 'c', 'd'])
      expect(
        short(agent.service(name, { version: 'v2', tags: ['eu'], metadata: { zone: 'b' } })),
      ).toEqual(['b'])
      expect(agent.service(name, { version: 'v9' })).toEqual([])
    })

    it('services maps every service to its instances, with tag and health filters', async () => {
      const { agent } = context()
      const { name, short } = await fixture(agent)
      expect(short(agent.services().get(name) ?? [])).toEqual(['a', 'b', 'd'])
      expect(short(agent.services({ tags: ['edge'] }).get(name) ?? [])).toEqual(['a'])
      expect(
        short(agent.services({ tags: ['edge'], includeCritical: true }).get(name) ?? []),
      ).toEqual(['a', 'c'])
      expect(short(agent.services({ includeCritical: true }).get(name) ?? [])).toEqual([
        'a',
        'b',
        'c',
        'd',
      ])
      expect(agent.services({ tags: [uniqueName('no-such-tag')] }).has(name)).toBe(false)
    })

    it('localInstances lists this node’s instances, healthy or not', async () => {
      const { agent } = context()
      const { name, short } = await fixture(agent)
      expect(short(agent.localInstances().filter((i) => i.name === name))).toEqual([
        'a',
        'b',
        'c',
        'd',
      ])
      expect(agent.localInstances().every((i) => i.node === agent.peerId)).toBe(true)
    })
  })

  describe('bad input', () => {
    it.each(BAD_INPUT)(
      '%s: ValidationError naming the field, nothing changes',
      async (_label, patch, field) => {
        const { agent, timeoutMs } = context()
        const name = uniqueName('bad')
        const keepId = `${name}-keep`
        await agent.register({ id: keepId, name, version: 'v1', tags: ['t'] })
        await eventually(() => expect(agent.getService(name)).toHaveLength(1))
        const before = snapshot(agent, name)
        const stream = agent.events(name)
        // As a new registration, and as a re-registration of the existing id.
        const attempts =
          patch === null
            ? [null]
            : [
                { name, ...patch },
                { id: keepId, name, ...patch },
              ]
        for (const attempt of attempts) {
          const error = await agent.register(attempt as Registration).then(
            () => undefined,
            (err: unknown) => err,
          )
          expect(error).toMatchObject({ code: 'ERR_VALIDATION' })
          const named = (error as { field: string }).field
          if (field.endsWith('*')) expect(named.startsWith(field.slice(0, -1))).toBe(true)
          else expect(named).toBe(field)
          expect(snapshot(agent, name)).toBe(before)
        }
        // No event was emitted: the next one is the sentinel's.
        const sentinel = await agent.register({ name })
        const next = await within(stream.next(), 'the sentinel event', timeoutMs)
        expect((next.value as ServiceEvent).instance.id).toBe(sentinel)
        await stream.return?.()
      },
    )
  })
}
