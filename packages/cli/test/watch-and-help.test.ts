import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/program.js'
import { startTestServer, type TestServer } from './support/api-server.js'
import { createMemoryIo, type MemoryIo } from './support/memory-io.js'
import { waitFor } from './support/wait-for.js'

let server: TestServer
let io: MemoryIo

beforeEach(async () => {
  server = await startTestServer()
  io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: server.addr } })
})
afterEach(async () => {
  await server.close()
})

const run = (...argv: string[]) => runCli(argv, io)

async function seed() {
  await server.agent.register({
    id: 'web-1',
    name: 'web',
    version: 'v1',
    endpoints: ['http://127.0.0.1:8080'],
    tags: ['edge'],
    metadata: { zone: 'a' },
  })
  await server.agent.register({ id: 'web-2', name: 'web', version: 'v2', status: 'critical' })
  await server.agent.register({ id: 'db-1', name: 'db' })
}

describe('grapevine watch NAME', () => {
  it('prints one JSON line per update with --json and stops on SIGINT', async () => {
    await seed()
    const done = run('watch', 'web', '--json')
    await waitFor('the snapshot line', () => io.out().includes('"snapshot"'))
    await server.agent.register({ id: 'web-3', name: 'web' })
    await waitFor('the change line', () => io.out().split('\n').length >= 3)
    io.interrupt()
    expect(await done).toBe(0)
    const lines = io
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines.map((l) => l.type)).toEqual(['snapshot', 'change'])
    expect(lines[1].event).toMatchObject({
      op: 'add',
      cause: 'registered',
      instance: { id: 'web-3' },
    })
    expect(lines[1].instances.map((i: { id: string }) => i.id)).toEqual(['web-1', 'web-3'])
  })

  it('redraws a table in place on a terminal', async () => {
    io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: server.addr }, isTTY: true })
    await seed()
    const done = run('watch', 'web')
    await waitFor('the first frame', () => io.out().includes('Ctrl-C to stop'))
    await server.agent.deregister('web-1')
    await waitFor('the second frame', () => io.out().split('\x1b[H\x1b[2J').length === 3)
    io.interrupt()
    expect(await done).toBe(0)
    const frames = io.out().split('\x1b[H\x1b[2J').slice(1)
    expect(frames[0]).toMatch(
      /^web: 1 instance at 03:04:05 \(index \d+\)\ninitial snapshot\n\nID +VERSION/,
    )
    expect(frames[1]).toContain('last change: delete web-1 (deregistered)')
    expect(frames[1]).toContain('No instances of web.')
  })

  it('appends updates when not on a terminal', async () => {
    await seed()
    const done = run('watch', 'web')
    await waitFor('the first update', () => io.out().includes('initial snapshot'))
    io.interrupt()
    expect(await done).toBe(0)
    expect(io.out()).not.toContain('\x1b[')
    expect(io.out()).toContain('web-1  v1       passing')
  })

  it('fails when the agent goes away', async () => {
    const done = run('watch', 'web')
    await waitFor('the first update', () => io.out().includes('initial snapshot'))
    await server.agent.stop()
    expect(await done).toBe(1)
    expect(io.err()).toContain('closed the watch stream')
  })
})

describe('finding the agent', () => {
  it('explains how to start an agent when none answers', async () => {
    io = createMemoryIo()
    expect(await run('members', '--http-addr', '127.0.0.1:1')).toBe(1)
    expect(io.err()).toBe(
      'error: no agent at http://127.0.0.1:1: start one with `grapevine agent`\n',
    )
  })

  it('sends the token from --token or GRAPEVINE_TOKEN', async () => {
    const guarded = await startTestServer({ token: 's3cret' })
    try {
      io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: guarded.addr } })
      expect(await run('services')).toBe(1)
      expect(io.err()).toContain('missing or wrong bearer token')
      io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: guarded.addr, GRAPEVINE_TOKEN: 's3cret' } })
      expect(await run('services')).toBe(0)
      io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: guarded.addr } })
      expect(await run('services', '--token', 's3cret', '--json')).toBe(0)
      expect(io.out()).toBe('{}\n')
    } finally {
      await guarded.close()
    }
  })
})

describe('help', () => {
  it.each([
    'agent',
    'members',
    'services',
    'service',
    'register',
    'deregister',
    'instances',
    'ttl',
    'watch',
    'conflicts',
    'demo',
  ])('grapevine %s --help describes the command with examples', async (command) => {
    expect(await run(command, '--help')).toBe(0)
    expect(io.out()).toContain(`Usage: grapevine ${command}`)
    expect(io.out()).toContain('Examples:')
  })

  it('lists every command at the top level', async () => {
    expect(await run('--help')).toBe(0)
    for (const command of [
      'agent',
      'members',
      'services',
      'service',
      'register',
      'watch',
      'demo',
    ]) {
      expect(io.out()).toContain(command)
    }
  })

  it('exits non-zero on an unknown command', async () => {
    expect(await run('frobnicate')).toBe(1)
    expect(io.err()).toContain("unknown command 'frobnicate'")
  })
})
