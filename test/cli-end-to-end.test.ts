/**
 * The `grapevine` binary end to end: three `grapevine agent` processes on 127.0.0.1 (each with
 * its own HTTP port and data dir, bootstrapping to the first; the third requires a bearer
 * token), driven by the client commands and by plain HTTP, as a user would.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Member, ServiceInstance } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEventStream } from '../packages/cli/test/support/event-stream-parser.js'
import { type CliAgent, grapevine, startCliAgent, stopCliAgent } from './support/cli-agents.js'

const TOKEN = `e2e-token-${process.pid}`
const AUTH = { authorization: `Bearer ${TOKEN}` }
const INDEX_HEADER = 'x-grapevine-index'
/** Longest accepted time from the end of a CLI write to the change on another agent. */
const PROPAGATION_BOUND_MS = 1000

interface ErrorBody {
  error: { code: string; message: string; field?: string }
}

interface TimedEvent {
  event: string
  id: string | undefined
  data: {
    index: number
    instances: ServiceInstance[]
    event?: { op: string; cause: string; instance: ServiceInstance }
  }
  /** performance.now() when the event was parsed. */
  at: number
}

let root: string
const agents: CliAgent[] = []
/** Aborts every open SSE stream and pending blocking query, in afterAll. */
const requests = new AbortController()
const readers: Promise<void>[] = []

/** The headers an agent's API needs: agent 3 requires the token. */
function headersFor(agent: CliAgent): Record<string, string> {
  return agent === agents[2] ? AUTH : {}
}

/** GRAPEVINE_* variables that point a client command at an agent. */
function envFor(agent: CliAgent): Record<string, string> {
  return {
    GRAPEVINE_HTTP_ADDR: agent.httpAddr,
    ...(agent === agents[2] && { GRAPEVINE_TOKEN: TOKEN }),
  }
}

async function api<T>(
  agent: CliAgent,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; index: string | null }> {
  const res = await fetch(`${agent.httpUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...headersFor(agent), ...init.headers },
    ...(init.body !== undefined && {
      body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    }),
    signal: requests.signal,
  })
  const text = await res.text()
  return {
    status: res.status,
    body: (text === '' ? undefined : JSON.parse(text)) as T,
    index: res.headers.get(INDEX_HEADER),
  }
}

async function instancesOf(agent: CliAgent, name: string, all = false): Promise<ServiceInstance[]> {
  const { status, body } = await api<ServiceInstance[]>(
    agent,
    `/v1/services/${name}${all ? '?all=true' : ''}`,
  )
  if (status !== 200) throw new Error(`GET /v1/services/${name} answered ${status}`)
  return body
}

async function membersOf(agent: CliAgent): Promise<Member[]> {
  return (await api<Member[]>(agent, '/v1/members')).body
}

/** Opens `GET /v1/watch/:name` and records every event with the time it arrived. */
async function openWatch(agent: CliAgent, name: string): Promise<TimedEvent[]> {
  const res = await fetch(`${agent.httpUrl}/v1/watch/${name}`, {
    headers: headersFor(agent),
    signal: requests.signal,
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/event-stream')
  const events: TimedEvent[] = []
  readers.push(
    (async () => {
      try {
        for await (const event of parseEventStream(res.body!)) {
          const at = performance.now()
          events.push({ event: event.event, id: event.id, data: JSON.parse(event.data), at })
        }
      } catch {
        // aborted in afterAll, or the agent went away
      }
    })(),
  )
  await waitFor(`the snapshot of ${name}`, () => events.some((e) => e.event === 'snapshot'))
  return events
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'grapevine-e2e-'))
  const cluster = `e2e-${process.pid}-${Date.now()}`
  const first = await startCliAgent({ name: 'agent-1', cluster, root })
  agents.push(first)
  const seed = first.addresses[0]!
  const others = await Promise.allSettled([
    startCliAgent({ name: 'agent-2', cluster, root, bootstrap: [seed] }),
    startCliAgent({
      name: 'agent-3',
      cluster,
      root,
      bootstrap: [seed],
      env: { GRAPEVINE_TOKEN: TOKEN },
    }),
  ])
  for (const result of others) if (result.status === 'fulfilled') agents.push(result.value)
  const failed = others.find((r) => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  await waitFor(
    'every agent to be ready and see 3 alive members',
    async () => {
      for (const agent of agents) {
        if ((await api(agent, '/ready')).status !== 200) return false
        const alive = (await membersOf(agent)).filter((m) => m.state === 'alive')
        if (alive.length !== 3) return false
      }
      return true
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  )
  // Pubsub carries heartbeats, so the members above prove the mesh; a write proves delivery.
  const { body } = await api<{ id: string }>(agents[0]!, '/v1/register', {
    method: 'POST',
    body: { name: 'e2e-warmup' },
  })
  await waitFor(
    'the warm-up registration on every agent',
    async () => {
      for (const agent of agents) {
        if (!(await instancesOf(agent, 'e2e-warmup')).some((i) => i.id === body.id)) return false
      }
      return true
    },
    { timeoutMs: 15_000, intervalMs: 20 },
  )
})

afterAll(async () => {
  requests.abort()
  await Promise.all(readers)
  await Promise.all(agents.map((agent) => stopCliAgent(agent)))
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe('grapevine end to end: three agent processes on 127.0.0.1', () => {
  it('delivers a `grapevine register` on agent 1 to the SSE watch of agent 2 within 1 s', async () => {
    const [agent1, agent2] = agents as [CliAgent, CliAgent]
    const name = 'e2e-web'
    const events = await openWatch(agent2, name)
    expect(events[0]!.data).toMatchObject({ instances: [] })

    const registered = await grapevine(
      [
        'register',
        '--name',
        name,
        '--id',
        'web-1',
        '--version',
        'v1',
        '--endpoint',
        'http://127.0.0.1:8080',
        '--tag',
        'edge',
        '--meta',
        'zone=a',
      ],
      envFor(agent1),
    )
    const returnedAt = performance.now()
    expect(registered).toMatchObject({ code: 0, stdout: 'Registered web-1 (e2e-web)\n' })

    const change = await waitFor(
      'the change event on agent 2',
      () =>
        events.find((e) => e.event === 'change' && e.data.instances.some((i) => i.id === 'web-1')),
      { timeoutMs: 10_000, intervalMs: 5 },
    )
    // Negative when the event beat the CLI process's exit; either way within the bound.
    expect(change.at - returnedAt).toBeLessThan(PROPAGATION_BOUND_MS)
    expect(change.data.instances).toEqual([
      expect.objectContaining({
        id: 'web-1',
        name,
        version: 'v1',
        endpoints: ['http://127.0.0.1:8080'],
        tags: ['edge'],
        metadata: { zone: 'a' },
        status: 'passing',
        node: agent1.peerId,
      }),
    ])
    expect(change.data.event).toMatchObject({ op: 'add', cause: 'registered' })
    // The SSE id is the index, and the index is a content hash: equal on every agent.
    expect(change.id).toBe(String(change.data.index))
    const onAgent1 = await api<ServiceInstance[]>(agent1, `/v1/services/${name}`)
    expect(onAgent1.index).toBe(String(change.data.index))
  })

  it('holds a blocking query on agent 3 until its answer changes, then returns at once', async () => {
    const [agent1, , agent3] = agents as [CliAgent, CliAgent, CliAgent]
    const name = 'e2e-api'
    const path = `/v1/services/${name}?tag=blue`
    const first = await api<ServiceInstance[]>(agent3, path)
    expect(first).toMatchObject({ status: 200, body: [] })
    const index = first.index!
    expect(index).toMatch(/^\d+$/)

    // A wait that runs out answers with the same list and index.
    const timedStart = performance.now()
    const timedOut = await api<ServiceInstance[]>(agent3, `${path}&index=${index}&wait=300ms`)
    expect(performance.now() - timedStart).toBeGreaterThanOrEqual(280)
    expect(timedOut).toMatchObject({ status: 200, body: [], index })

    let settledAt: number | undefined
    const blocking = api<ServiceInstance[]>(agent3, `${path}&index=${index}&wait=60s`).then(
      (answer) => {
        settledAt = performance.now()
        return answer
      },
    )
    // A write to the same service that the tag filter hides must not wake it.
    const untagged = await grapevine(
      ['register', '--name', name, '--id', 'api-green', '--tag', 'green'],
      envFor(agent1),
    )
    expect(untagged.code).toBe(0)
    await waitFor(
      'agent 3 to hold the untagged instance',
      async () => (await instancesOf(agent3, name)).some((i) => i.id === 'api-green'),
      { timeoutMs: 10_000, intervalMs: 20 },
    )
    expect(settledAt).toBeUndefined()

    const changeStartedAt = performance.now()
    const tagged = await grapevine(
      ['register', '--name', name, '--id', 'api-blue', '--tag', 'blue', '--version', 'v2'],
      envFor(agent1),
    )
    const changeReturnedAt = performance.now()
    expect(tagged.code).toBe(0)
    const answer = await blocking
    expect(settledAt!).toBeGreaterThan(changeStartedAt)
    expect(settledAt! - changeReturnedAt).toBeLessThan(PROPAGATION_BOUND_MS)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual([
      expect.objectContaining({ id: 'api-blue', name, version: 'v2', node: agent1.peerId }),
    ])
    expect(answer.index).not.toBe(index)
  })

  it('answers bad requests with 400 naming the field, and changes nothing', async () => {
    const [agent1, agent2] = agents as [CliAgent, CliAgent]
    const kept = await api<{ id: string }>(agent1, '/v1/register', {
      method: 'POST',
      body: { name: 'e2e-kept', id: 'kept-1', version: 'v1', endpoints: ['http://127.0.0.1:7000'] },
    })
    expect(kept).toMatchObject({ status: 200, body: { id: 'kept-1' } })
    const servicesBefore = await api<Record<string, ServiceInstance[]>>(
      agent1,
      '/v1/services?all=true',
    )
    const instancesBefore = await api<unknown[]>(agent1, '/v1/instances')

    const bad: Array<[string, unknown]> = [
      ['endpoints[0]', { name: 'e2e-bad', endpoints: ['not a url'] }],
      ['name', { endpoints: ['http://127.0.0.1:7001'] }],
      ['name', { name: 'bad name!' }],
      ['metadata.zone', { name: 'e2e-bad', metadata: { zone: 7 } }],
      [
        'checks[0].interval',
        { name: 'e2e-bad', checks: [{ kind: 'http', url: 'http://127.0.0.1:1/', interval: -100 }] },
      ],
      ['checks[0].kind', { name: 'e2e-bad', checks: [{ kind: 'smoke-signal' }] }],
      [
        'checks[1].url',
        {
          name: 'e2e-bad',
          checks: [
            { kind: 'ttl', ttl: '10s' },
            { kind: 'http', url: 'no scheme here', interval: '1s' },
          ],
        },
      ],
      // An update of a stored instance with a bad check leaves the stored one alone.
      [
        'checks[0].ttl',
        { name: 'e2e-kept', id: 'kept-1', version: 'v2', checks: [{ kind: 'ttl' }] },
      ],
    ]
    for (const [field, body] of bad) {
      const answer = await api<ErrorBody>(agent1, '/v1/register', { method: 'POST', body })
      expect({ field, status: answer.status, error: answer.body.error }).toMatchObject({
        field,
        status: 400,
        error: { code: 'ERR_VALIDATION', field },
      })
      expect(answer.body.error.message).toContain(field)
    }
    const notJson = await api<ErrorBody>(agent1, '/v1/register', {
      method: 'POST',
      body: '{"name": ',
    })
    expect(notJson).toMatchObject({ status: 400, body: { error: { code: 'ERR_BAD_JSON' } } })

    // The CLI reports the agent's verdict and exits non-zero.
    const cli = await grapevine(
      ['register', '--name', 'e2e-bad', '--endpoint', 'not a url'],
      envFor(agent1),
    )
    expect(cli.code).toBe(1)
    expect(cli.stderr).toContain('invalid endpoints[0]')

    expect(await api(agent1, '/v1/services?all=true')).toEqual(servicesBefore)
    expect(await api(agent1, '/v1/instances')).toEqual(instancesBefore)

    // Nothing left agent 1 either: a later write of agent 1 reaches agent 2 only after every
    // earlier one (an origin's writes apply in order), so once it is there, agent 2 has seen
    // all that agent 1 wrote.
    await api(agent1, '/v1/register', { method: 'POST', body: { name: 'e2e-marker' } })
    await waitFor(
      'the marker on agent 2',
      async () => (await instancesOf(agent2, 'e2e-marker')).length === 1,
      { timeoutMs: 10_000, intervalMs: 20 },
    )
    expect(await instancesOf(agent2, 'e2e-bad', true)).toEqual([])
    expect(await instancesOf(agent2, 'e2e-kept', true)).toEqual([
      expect.objectContaining({ id: 'kept-1', version: 'v1', status: 'passing' }),
    ])
  })

  it('refuses requests without the bearer token on agent 3 (401) and serves them with it', async () => {
    const [agent1, , agent3] = agents as [CliAgent, CliAgent, CliAgent]
    const anonymous = { authorization: '' }
    expect((await api(agent3, '/health', { headers: anonymous })).status).toBe(200)
    for (const path of ['/v1/services', '/v1/members', '/v1/watch/e2e-web', '/ready']) {
      const refused = await api<ErrorBody>(agent3, path, { headers: anonymous })
      expect({ path, status: refused.status, code: refused.body.error.code }).toEqual({
        path,
        status: 401,
        code: 'ERR_UNAUTHORIZED',
      })
    }
    const wrong = await api(agent3, '/v1/services', { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    const refusedWrite = await api(agent3, '/v1/register', {
      method: 'POST',
      body: { name: 'e2e-sneaky' },
      headers: anonymous,
    })
    expect(refusedWrite.status).toBe(401)

    const allowed = await api<{ id: string }>(agent3, '/v1/register', {
      method: 'POST',
      body: { name: 'e2e-guarded', id: 'guarded-1' },
    })
    expect(allowed).toMatchObject({ status: 200, body: { id: 'guarded-1' } })
    // Agent 3's later write reached agent 1, so the refused one would have too.
    await waitFor(
      'the authorized registration on agent 1',
      async () => (await instancesOf(agent1, 'e2e-guarded')).length === 1,
      { timeoutMs: 10_000, intervalMs: 20 },
    )
    expect(await instancesOf(agent1, 'e2e-sneaky', true)).toEqual([])
    expect(await instancesOf(agent3, 'e2e-sneaky', true)).toEqual([])

    const { GRAPEVINE_HTTP_ADDR } = envFor(agent3)
    const withoutToken = await grapevine(['members'], { GRAPEVINE_HTTP_ADDR: GRAPEVINE_HTTP_ADDR! })
    expect(withoutToken.code).toBe(1)
    expect(withoutToken.stderr).toContain('missing or wrong bearer token')
    const withToken = await grapevine(['members', '--json'], envFor(agent3))
    expect(withToken.code).toBe(0)
    const members = JSON.parse(withToken.stdout) as Member[]
    expect(members).toHaveLength(3)
    expect(members[0]).toMatchObject({ id: agent3.peerId, self: true, state: 'alive' })
    expect(new Set(members.map((m) => m.id))).toEqual(new Set(agents.map((a) => a.peerId)))
  })

  it('shows a SIGKILLed agent as dead in the others’ members and drops its instances', async () => {
    const [agent1, victim, agent3] = agents as [CliAgent, CliAgent, CliAgent]
    const name = 'e2e-victim'
    const registered = await grapevine(
      ['register', '--name', name, '--id', 'victim-1', '--endpoint', 'http://127.0.0.1:7100'],
      envFor(victim),
    )
    expect(registered.code).toBe(0)
    const survivors = [agent1, agent3]
    await waitFor(
      'the victim’s instance on agents 1 and 3',
      async () => {
        for (const agent of survivors)
          if ((await instancesOf(agent, name)).length !== 1) return false
        return true
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    )
    const events = await openWatch(agent1, name)

    victim.kill('SIGKILL')
    expect(await victim.exited).toBeNull()
    await waitFor(
      'agents 1 and 3 to see the victim dead and its instance gone',
      async () => {
        for (const agent of survivors) {
          const member = (await membersOf(agent)).find((m) => m.id === victim.peerId)
          if (member?.state !== 'dead') return false
          if ((await instancesOf(agent, name, true)).length !== 0) return false
        }
        return true
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    )
    expect(events.find((e) => e.event === 'change')?.data).toMatchObject({
      instances: [],
      event: { op: 'delete', cause: 'expired', instance: { id: 'victim-1' } },
    })

    // What a user sees, through the real client commands.
    for (const agent of survivors) {
      const members = await grapevine(['members', '--json'], envFor(agent))
      expect(members.code).toBe(0)
      const list = JSON.parse(members.stdout) as Member[]
      expect(list.find((m) => m.id === victim.peerId)).toMatchObject({ state: 'dead' })
      expect(list.filter((m) => m.state === 'alive')).toHaveLength(2)
      const service = await grapevine(['service', name, '--json'], envFor(agent))
      expect(service.code).toBe(0)
      expect(JSON.parse(service.stdout)).toEqual([])
      // The survivors' own instances are untouched.
      const web = await grapevine(['service', 'e2e-web', '--json'], envFor(agent))
      expect(JSON.parse(web.stdout)).toEqual([expect.objectContaining({ id: 'web-1' })])
    }
    const table = await grapevine(['members'], envFor(agent1))
    expect(table.stdout).toMatch(new RegExp(`${victim.peerId}.*dead|dead.*${victim.peerId}`))
  })
})
