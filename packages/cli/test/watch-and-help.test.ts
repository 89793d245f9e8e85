import { createLocalAgent } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { createHttpApi } from '../src/http/http-api.js'
import { startTestServer } from './support/api-server.js'
import { useCliTest } from './support/cli-test.js'
import { createMemoryIo } from './support/memory-io.js'

const cli = useCliTest()
const { server, run, seed } = cli

describe('grapevine watch NAME', () => {
  it('prints one JSON line per update with --json and stops on SIGINT', async () => {
    await seed()
    const done = run('watch', 'web', '--json')
    await waitFor('the snapshot line', () => cli.io.out().includes('"snapshot"'))
    await server.agent.register({ id: 'web-3', name: 'web' })
    await waitFor('the change line', () => cli.io.out().split('\n').length >= 3)
    cli.io.interrupt()
    expect(await done).toBe(0)
    const lines = cli.io
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
    cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: server.addr }, isTTY: true })
    await seed()
    const done = run('watch', 'web')
    await waitFor('the first frame', () => cli.io.out().includes('Ctrl-C to stop'))
    await server.agent.deregister('web-1')
    await waitFor('the second frame', () => cli.io.out().split('\x1b[H\x1b[2J').length === 3)
    cli.io.interrupt()
    expect(await done).toBe(0)
    const frames = cli.io.out().split('\x1b[H\x1b[2J').slice(1)
    expect(frames[0]).toMatch(
      /^web: 1 instance at 03:04:05 \(index \d+\)\ninitial snapshot\n\nID +VERSION/,
    )
    expect(frames[1]).toContain('last change: delete web-1 (deregistered)')
    expect(frames[1]).toContain('No instances of web.')
  })

  it('appends updates when not on a terminal', async () => {
    await seed()
    const done = run('watch', 'web')
    await waitFor('the first update', () => cli.io.out().includes('initial snapshot'))
    cli.io.interrupt()
    expect(await done).toBe(0)
    expect(cli.io.out()).not.toContain('\x1b[')
    expect(cli.io.out()).toContain('web-1  v1       passing')
  })

  it('fails when the agent is stopped for good (the retry is refused)', async () => {
    const done = run('watch', 'web')
    await waitFor('the first update', () => cli.io.out().includes('initial snapshot'))
    await server.agent.stop()
    expect(await done).toBe(1)
    expect(cli.io.err()).toContain('reconnecting')
    expect(cli.io.err()).toContain('agent is stopped')
  })

  // Issue 12, friction point 7: `watch` survives its agent's restart.
  it('reconnects to an agent restarted on the same address, and shows its list', async () => {
    const first = await startTestServer()
    await first.agent.register({ id: 'web-1', name: 'web' })
    cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: first.addr } })
    const done = run('watch', 'web', '--json')
    await waitFor('the snapshot', () => cli.io.out().includes('"web-1"'))
    await first.close()
    await waitFor('the reconnect notice', () => cli.io.err().includes('reconnecting'))
    // The "restarted" agent: a new agent and API on the same port, with another list.
    const agent = createLocalAgent({ nodeId: 'node-b' })
    await agent.register({ id: 'web-9', name: 'web' })
    const api = createHttpApi({ agent, logger: pino({ level: 'silent' }) })
    try {
      await api.listen(first.addr)
      await waitFor('the new snapshot', () => cli.io.out().includes('"web-9"'), {
        timeoutMs: 5000,
      })
      expect(cli.io.err()).toContain('reconnected')
      cli.io.interrupt()
      expect(await done).toBe(0)
      const types = cli.io
        .out()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).type)
      expect(types).toEqual(['snapshot', 'snapshot'])
    } finally {
      await api.close()
      await agent.stop()
    }
  })
})

describe('finding the agent', () => {
  it('explains how to start an agent when none answers', async () => {
    cli.io = createMemoryIo()
    expect(await run('members', '--http-addr', '127.0.0.1:1')).toBe(1)
    expect(cli.io.err()).toBe(
      'error: no agent at http://127.0.0.1:1: start one with `grapevine agent`\n',
    )
  })

  it('sends the token from --token or GRAPEVINE_TOKEN', async () => {
    const guarded = await startTestServer({ token: 's3cret' })
    try {
      cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: guarded.addr } })
      expect(await run('services')).toBe(1)
      expect(cli.io.err()).toContain('missing or wrong bearer token')
      cli.io = createMemoryIo({
        env: { GRAPEVINE_HTTP_ADDR: guarded.addr, GRAPEVINE_TOKEN: 's3cret' },
      })
      expect(await run('services')).toBe(0)
      cli.io = createMemoryIo({ env: { GRAPEVINE_HTTP_ADDR: guarded.addr } })
      expect(await run('services', '--token', 's3cret', '--json')).toBe(0)
      expect(cli.io.out()).toBe('{}\n')
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
    expect(cli.io.out()).toContain(`Usage: grapevine ${command}`)
    expect(cli.io.out()).toContain('Examples:')
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
      expect(cli.io.out()).toContain(command)
    }
  })

  it('exits non-zero on an unknown command', async () => {
    expect(await run('frobnicate')).toBe(1)
    expect(cli.io.err()).toContain("unknown command 'frobnicate'")
  })
})
