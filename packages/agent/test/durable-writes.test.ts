import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ValidationError } from '@grapevine/core'
import { uniqueName, waitFor } from '@grapevine/core/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { GENERATION_FILE, openDataDir, REGISTRATIONS_FILE } from '../src/data-dir.js'
import {
  type AgentOptions,
  createAgent,
  DataDirCorruptError,
  DataDirWriteError,
  type GrapevineAgent,
} from '../src/index.js'

const loopback = (overrides: AgentOptions = {}): AgentOptions => ({
  cluster: 'durable-test',
  listen: ['/ip4/127.0.0.1/tcp/0'],
  mdns: false,
  timings: { readyTimeout: 2_000 },
  ...overrides,
})

let root: string
const running: GrapevineAgent[] = []

async function start(overrides: AgentOptions = {}): Promise<GrapevineAgent> {
  const agent = await createAgent(loopback(overrides))
  running.push(agent)
  return agent
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `grapevine-durable-${process.pid}-`))
})
afterEach(async () => {
  await Promise.all(running.splice(0).map((agent) => agent.stop().catch(() => undefined)))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const names = (agent: GrapevineAgent) => agent.localInstances().map((instance) => instance.id)

describe('durable writes', () => {
  // Finding 1: a registration whose unknown field nested 10,000 levels deep was stored; every
  // later save then failed, yet the writes were applied and replicated, and a restart lost them.
  it('refuses an unknown deeply nested field, and every later write survives a restart', async () => {
    const dataDir = join(root, 'deep')
    const agent = await start({ dataDir })
    let deep: unknown = {}
    for (let i = 0; i < 10_000; i++) deep = { deep }
    const bad = agent.register({ id: 'bad', name: 'svc', extra: deep } as never)
    await expect(bad).rejects.toBeInstanceOf(ValidationError)
    await expect(bad).rejects.toMatchObject({ field: 'extra' })
    await agent.register({ id: 'a', name: 'svc' })
    await agent.register({ id: 'b', name: 'svc' })
    await agent.deregister('a')
    await agent.stop()
    const again = await start({ dataDir })
    expect(names(again)).toEqual(['b'])
  })

  it('a write that cannot be saved fails, and no peer ever sees it', async () => {
    const dataDir = join(root, 'unsaveable')
    const owner = await start({ dataDir })
    const peer = await start({ bootstrap: [...owner.addresses] })
    const name = uniqueName('durable')
    await owner.register({ id: 'first', name })
    await waitFor('first on the peer', () => peer.getService(name).length === 1)

    // A non-empty directory where the file goes: the rename of every save fails.
    const file = join(dataDir, REGISTRATIONS_FILE)
    await rm(file)
    await mkdir(join(file, 'blocker'), { recursive: true })
    await expect(owner.register({ id: 'lost', name })).rejects.toBeInstanceOf(DataDirWriteError)
    await expect(owner.deregister('first')).rejects.toMatchObject({ code: DataDirWriteError.code })
    expect(names(owner)).toEqual(['first'])
    expect(owner.getService(name).map((instance) => instance.id)).toEqual(['first'])

    await rm(file, { recursive: true })
    await owner.register({ id: 'last', name })
    // Writes of one origin arrive in order: once `last` is there, `lost` would have been too.
    await waitFor('last on the peer', () => peer.getService(name).length === 2)
    expect(peer.getService(name).map((instance) => instance.id)).toEqual(['first', 'last'])
    const stored = JSON.parse(await readFile(file, 'utf8')) as { id: string }[]
    expect(stored.map((entry) => entry.id)).toEqual(['first', 'last'])
  })

  it.each<[string, string, string]>([
    ['registrations that are not JSON', REGISTRATIONS_FILE, '[{"id": "a", "na'],
    ['registrations that are not a list', REGISTRATIONS_FILE, '{"id": "a"}'],
    ['a registration that no longer validates', REGISTRATIONS_FILE, '[{"id": "a", "name": "a b"}]'],
    ['a generation that is not a number', GENERATION_FILE, 'twelve'],
    ['an empty generation', GENERATION_FILE, ''],
    ['an identity that is not a key', 'identity.key', 'not a key'],
  ])('refuses to start on %s, naming the file', async (_what, name, content) => {
    const dataDir = join(root, `corrupt-${name}-${Math.random().toString(36).slice(2)}`)
    await (await start({ dataDir })).stop()
    await writeFile(join(dataDir, name), content)
    const starting = createAgent(loopback({ dataDir }))
    await expect(starting).rejects.toBeInstanceOf(DataDirCorruptError)
    await expect(starting).rejects.toMatchObject({
      code: 'ERR_DATA_DIR_CORRUPT',
      file: join(dataDir, name),
    })
  })

  it('loads registrations saved with unknown fields by an earlier version, dropping them', async () => {
    const dataDir = join(root, 'earlier')
    await (await start({ dataDir })).stop()
    await writeFile(
      join(dataDir, REGISTRATIONS_FILE),
      JSON.stringify([{ id: 'old', name: 'svc', owner: 'team-a' }]),
    )
    const agent = await start({ dataDir })
    expect(names(agent)).toEqual(['old'])
  })
})

describe('generations', () => {
  // Finding 2: the generation file added 1 to what it held, so a restored copy announced a
  // generation peers had already seen, and they dropped or ignored it.
  it('start above the stored value and the wall clock, so a restored copy is newest', async () => {
    const dir = join(root, 'generations')
    const backup = join(root, 'generations-backup')
    let wall = 1_000
    const open = () => openDataDir(dir, { wallClock: () => wall })
    expect(await (await open()).nextGeneration()).toBe(1_000)
    await cp(dir, backup, { recursive: true })
    expect(await (await open()).nextGeneration()).toBe(1_001) // same millisecond: stored + 1
    wall = 5_000
    const announced = await (await open()).nextGeneration()
    expect(announced).toBe(5_000)
    await rm(dir, { recursive: true })
    await cp(backup, dir, { recursive: true })
    wall = 5_001
    expect(await (await open()).nextGeneration()).toBeGreaterThan(announced)
  })

  it.each(['leave', 'stop'] as const)(
    'a node restored from an older copy rejoins with exactly what the copy holds (%s before the restore)',
    async (ending) => {
      const dataDir = join(root, `restore-${ending}`)
      const backup = join(root, `restore-${ending}-backup`)
      const peer = await start()
      const name = uniqueName('restore')
      const ids = () => peer.getService(name).map((instance) => instance.id)

      let node = await start({ dataDir, bootstrap: [...peer.addresses] })
      await node.register({ id: 'x', name })
      await node.register({ id: 'y', name })
      await waitFor('x and y on the peer', () => ids().join() === 'x,y')
      await node.stop()
      await cp(dataDir, backup, { recursive: true })

      node = await start({ dataDir, bootstrap: [...peer.addresses] })
      await node.ready
      await node.register({ id: 'z', name })
      await node.deregister('x')
      await waitFor('y and z on the peer', () => ids().join() === 'y,z')
      await node[ending]()
      await rm(dataDir, { recursive: true })
      await cp(backup, dataDir, { recursive: true })

      node = await start({ dataDir, bootstrap: [...peer.addresses] })
      await waitFor('exactly the copy on the peer', () => ids().join() === 'x,y', {
        timeoutMs: 8_000,
      })
    },
  )
})
