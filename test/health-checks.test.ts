/**
 * Health checks across a cluster: three in-process agents on 127.0.0.1, real HTTP and TCP
 * servers on 127.0.0.1. The owner runs the checks; the other nodes must follow its verdicts
 * (hide critical instances from default results, show them with `includeCritical`).
 */
import {
  type CheckDefinitionInput,
  CheckNotFoundError,
  type GrapevineAgent,
} from '@grapevine/agent'
import {
  NotFoundError,
  type ServiceEvent,
  type ServiceInstance,
  ValidationError,
} from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  closedPort,
  startHttpServer,
  startTcpServer,
} from '../packages/agent/test/checks/servers.js'
import { startCluster, type TestCluster } from './support/cluster.js'

/** Allowance for the owner's status change to reach the other nodes (pubsub, same host). */
const PROPAGATION_MS = 1000

let cluster: TestCluster
let owner: GrapevineAgent
let observers: GrapevineAgent[]
const closers: Array<() => Promise<void> | void> = []

beforeAll(async () => {
  // Checks here run at 50–100 ms, below the agent's 1 s minimum, to keep the test short.
  cluster = await startCluster(3, { minCheckInterval: 10 })
  owner = cluster.agents[0]!
  observers = cluster.agents.slice(1)
  // Every node hears every other before timings are measured.
  await waitFor(
    'every node to see 3 alive members',
    () => cluster.agents.every((a) => a.members().filter((m) => m.state === 'alive').length === 3),
    { timeoutMs: 20_000 },
  )
})

afterAll(async () => {
  await cluster?.stop()
  for (const close of closers.splice(0).reverse()) await close()
})

async function httpServer(handler: Parameters<typeof startHttpServer>[0]) {
  const server = await startHttpServer(handler)
  closers.push(server.close)
  return server
}

function find(agent: GrapevineAgent, name: string, id: string): ServiceInstance | undefined {
  return agent.service(name, { includeCritical: true }).find((i) => i.id === id)
}

/** True when every observer's default (healthy-only) result holds the instance. */
function visibleEverywhere(name: string, id: string): boolean {
  return observers.every((agent) => agent.getService(name).some((i) => i.id === id))
}

/** True when no observer's default result holds the instance. */
function hiddenEverywhere(name: string, id: string): boolean {
  return observers.every((agent) => !agent.getService(name).some((i) => i.id === id))
}

/** Resolves with the milliseconds `check` took to hold, from `since`. */
async function elapsedUntil(
  what: string,
  since: number,
  check: () => boolean,
  timeoutMs = 10_000,
): Promise<number> {
  await waitFor(what, check, { timeoutMs, intervalMs: 5 })
  return performance.now() - since
}

function collect(stream: AsyncIterableIterator<ServiceEvent>): ServiceEvent[] {
  const events: ServiceEvent[] = []
  void (async () => {
    for await (const event of stream) events.push(event)
  })()
  return events
}

describe('health checks in a cluster of 3 in-process agents', () => {
  it('takes an instance with a failing HTTP endpoint out of other nodes’ results, and back', async () => {
    const interval = 100
    const failuresBeforeCritical = 2
    const successesBeforePassing = 2
    let code = 200
    const server = await httpServer((_req, res) => {
      res.writeHead(code).end(code === 200 ? 'ok' : 'down')
    })
    const name = 'hc-http'
    const id = await owner.register({
      name,
      endpoints: [server.url],
      checks: [
        {
          kind: 'http',
          url: `${server.url}/health`,
          interval,
          // Generous, so a busy machine does not turn a slow 200 into a failure.
          timeout: 2000,
          failuresBeforeCritical,
          successesBeforePassing,
        },
      ],
    })
    await waitFor('the instance passing on every node', () => visibleEverywhere(name, id))
    for (const agent of observers) expect(find(agent, name, id)?.status).toBe('passing')

    code = 500
    const failedAt = performance.now()
    const hiddenAfter = await elapsedUntil(
      'the instance hidden on every other node',
      failedAt,
      () => hiddenEverywhere(name, id),
    )
    expect(hiddenAfter).toBeLessThan(interval * failuresBeforeCritical + PROPAGATION_MS)
    for (const agent of observers) {
      expect(agent.getService(name)).toEqual([])
      expect(agent.service(name, { includeCritical: true })).toEqual([
        expect.objectContaining({ id, status: 'critical', node: owner.peerId }),
      ])
    }
    expect(owner.checks(id)).toEqual([
      expect.objectContaining({ kind: 'http', status: 'critical', lastResult: 'critical' }),
    ])
    expect(owner.checks(id)![0]!.failures).toBeGreaterThanOrEqual(failuresBeforeCritical)
    expect(owner.checks(id)![0]!.output).toContain('500')

    code = 200
    const recoveredAt = performance.now()
    const backAfter = await elapsedUntil('the instance back on every node', recoveredAt, () =>
      visibleEverywhere(name, id),
    )
    expect(backAfter).toBeLessThan(interval * successesBeforePassing + PROPAGATION_MS)
    for (const agent of observers) expect(find(agent, name, id)?.status).toBe('passing')
    expect(owner.checks(id)![0]!.successes).toBeGreaterThanOrEqual(successesBeforePassing)

    await owner.deregister(id)
  })

  it('marks an instance whose TCP check hits a closed port critical, and one whose port closes', async () => {
    const interval = 100
    const tcp = await startTcpServer()
    closers.push(tcp.close)
    const closed = await closedPort()
    const name = 'hc-tcp'
    const openId = await owner.register({
      name,
      id: 'tcp-open',
      checks: [{ kind: 'tcp', address: `127.0.0.1:${tcp.port}`, interval, timeout: 2000 }],
    })
    const closedId = await owner.register({
      name,
      id: 'tcp-closed',
      checks: [{ kind: 'tcp', address: `127.0.0.1:${closed}`, interval, timeout: 2000 }],
    })
    await waitFor(
      'the open one passing and the closed one critical (after a probe) on every node',
      () =>
        owner.checks(closedId)?.[0]?.lastResult === 'critical' &&
        visibleEverywhere(name, openId) &&
        observers.every((agent) => find(agent, name, closedId)?.status === 'critical'),
    )
    expect(owner.checks(closedId)![0]!.output).toContain('ECONNREFUSED')
    for (const agent of observers) {
      expect(agent.getService(name).map((i) => i.id)).toEqual([openId])
      expect(find(agent, name, openId)?.status).toBe('passing')
    }

    await tcp.close()
    const closedAt = performance.now()
    const hiddenAfter = await elapsedUntil('the closed server’s instance hidden', closedAt, () =>
      hiddenEverywhere(name, openId),
    )
    expect(hiddenAfter).toBeLessThan(interval + PROPAGATION_MS)
    for (const agent of observers) expect(find(agent, name, openId)?.status).toBe('critical')

    await owner.deregister(openId)
    await owner.deregister(closedId)
  })

  it('expires a TTL check that is not fed, and brings it back on the next pass', async () => {
    const ttl = 500
    const name = 'hc-ttl'
    const id = await owner.register({ name, checks: [{ kind: 'ttl', ttl }] })
    const checkId = owner.checks(id)![0]!.id
    expect(checkId).toBe('ttl-0')
    // Nothing reported yet: critical, so no other node returns it.
    expect(owner.localInstances()).toContainEqual(
      expect.objectContaining({ id, status: 'critical' }),
    )
    await waitFor('the new instance on every node, as critical', () =>
      observers.every((agent) => find(agent, name, id)?.status === 'critical'),
    )
    expect(hiddenEverywhere(name, id)).toBe(true)

    owner.ttl(id, checkId, 'pass', 'warming up done')
    const fedAt = performance.now()
    await waitFor('the instance visible everywhere after a pass', () => visibleEverywhere(name, id))

    // Not fed again: the TTL runs out on the owner and the others stop seeing it.
    const hiddenAfter = await elapsedUntil('the instance hidden after its TTL', fedAt, () =>
      hiddenEverywhere(name, id),
    )
    // Not before the TTL (less a little timer slack), and soon after it.
    expect(hiddenAfter).toBeGreaterThanOrEqual(ttl - 20)
    expect(hiddenAfter).toBeLessThan(ttl + PROPAGATION_MS)
    for (const agent of observers) expect(find(agent, name, id)?.status).toBe('critical')
    expect(owner.checks(id)![0]!.output).toContain('TTL expired')

    owner.ttl(id, checkId, 'pass')
    await waitFor('the instance back after a pass', () => visibleEverywhere(name, id))
    // warn keeps it in results (as Consul's warning does), fail takes it out at once.
    owner.ttl(id, checkId, 'warn', 'slow disk')
    await waitFor('the warning on every node', () =>
      observers.every(
        (agent) => agent.getService(name).find((i) => i.id === id)?.status === 'warning',
      ),
    )
    owner.ttl(id, checkId, 'fail')
    await waitFor('the failure on every node', () => hiddenEverywhere(name, id))

    expect(() => owner.ttl(id, 'nope', 'pass')).toThrow(CheckNotFoundError)
    expect(() => owner.ttl('no-such-instance', checkId, 'pass')).toThrow(NotFoundError)
    await owner.deregister(id)
  })

  it('deregisters an instance critical for deregisterCriticalAfter everywhere', async () => {
    const interval = 50
    const deregisterCriticalAfter = 300
    let healthy = true
    const server = await httpServer((_req, res) => {
      res.writeHead(healthy ? 200 : 503).end()
    })
    const name = 'hc-reap'
    const events = collect(observers[0]!.events(name))
    const id = await owner.register({
      name,
      checks: [{ kind: 'http', url: server.url, interval, timeout: 2000, deregisterCriticalAfter }],
    })
    await waitFor('the instance passing everywhere', () => visibleEverywhere(name, id))

    healthy = false
    const failedAt = performance.now()
    const goneAfter = await elapsedUntil('the instance gone from every node', failedAt, () => {
      const owned = owner.localInstances().some((i) => i.id === id)
      const replicated = observers.some((agent) => find(agent, name, id) !== undefined)
      return !owned && !replicated && owner.service(name, { includeCritical: true }).length === 0
    })
    expect(goneAfter).toBeGreaterThanOrEqual(deregisterCriticalAfter)
    expect(goneAfter).toBeLessThan(interval + deregisterCriticalAfter + PROPAGATION_MS)
    expect(owner.checks(id)).toBeUndefined()
    // The others saw it turn critical first, then deregistered (a tombstone, not an expiry).
    await waitFor('the delete event', () => events.some((e) => e.op === 'delete'))
    expect(events.map((e) => [e.op, e.cause, e.instance.status])).toEqual(
      expect.arrayContaining([
        ['update', 'health', 'critical'],
        ['delete', 'deregistered', 'critical'],
      ]),
    )
    expect(events.at(-1)).toMatchObject({ op: 'delete', cause: 'deregistered' })
    // Gone for good: a deregistration is not undone when the endpoint recovers.
    await expect(owner.deregister(id)).rejects.toThrow(NotFoundError)
  })

  it('keeps a new instance with checks critical (hidden elsewhere) until its first pass', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    closers.push(() => release())
    let hits = 0
    const server = await httpServer((_req, res) => {
      hits += 1
      void gate.then(() => res.writeHead(200).end('ok'))
    })
    const name = 'hc-new'
    const check: CheckDefinitionInput = {
      kind: 'http',
      url: `${server.url}/health`,
      interval: 100,
      timeout: 10_000,
    }
    const criticalId = await owner.register({ name, id: 'new-default', checks: [check] })
    const optimisticId = await owner.register({
      name,
      id: 'new-optimistic',
      checks: [{ ...check, initialStatus: 'passing' }],
    })
    expect(owner.localInstances()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: criticalId, status: 'critical' }),
        expect.objectContaining({ id: optimisticId, status: 'passing' }),
      ]),
    )
    // Both first probes are in flight and held: no result yet.
    await waitFor(
      'both instances replicated while their first probes are held',
      () =>
        hits >= 2 &&
        observers.every(
          (agent) =>
            find(agent, name, criticalId)?.status === 'critical' &&
            find(agent, name, optimisticId) !== undefined,
        ),
    )
    for (const agent of observers) {
      expect(agent.getService(name).map((i) => i.id)).toEqual([optimisticId])
    }
    expect(owner.checks(criticalId)![0]!.lastResult).toBeUndefined()

    release()
    const releasedAt = performance.now()
    const visibleAfter = await elapsedUntil('the first pass seen everywhere', releasedAt, () =>
      visibleEverywhere(name, criticalId),
    )
    expect(visibleAfter).toBeLessThan(PROPAGATION_MS)
    for (const agent of observers) {
      expect(
        agent
          .getService(name)
          .map((i) => [i.id, i.status])
          .sort(),
      ).toEqual([
        [criticalId, 'passing'],
        [optimisticId, 'passing'],
      ])
    }
    await owner.deregister(criticalId)
    await owner.deregister(optimisticId)
  })

  it('keeps a passing instance passing when it is re-registered with the same checks', async () => {
    const server = await httpServer((_req, res) => res.writeHead(200).end('ok'))
    const name = 'hc-reregister'
    const registration = {
      name,
      version: 'v1',
      checks: [{ kind: 'http' as const, url: `${server.url}/health`, interval: 100 }],
    }
    const id = await owner.register(registration)
    await waitFor('passing on the owner', () => owner.getService(name).length === 1)
    const events = collect(owner.events(name))
    await owner.register({ ...registration, id, version: 'v2' })
    await waitFor('v2 on the owner', () => owner.getService(name)[0]?.version === 'v2')
    // One update, still passing: the unchanged check kept its state through the rewrite.
    expect(events.map((e) => [e.op, e.cause, e.instance.status])).toEqual([
      ['update', 'registered', 'passing'],
    ])
  })

  it('rejects bad check definitions at register time, naming the field, and registers nothing', async () => {
    const url = 'http://127.0.0.1:9/health'
    const keptId = await owner.register({ name: 'hc-kept', id: 'kept-1', version: 'v1' })
    const localBefore = owner.localInstances()
    const bad: Array<[string, unknown]> = [
      ['checks[0].kind', [{ kind: 'grpc', interval: 100 }]],
      ['checks[0].kind', [{ interval: 100, url }]],
      ['checks[0].interval', [{ kind: 'http', url, interval: -100 }]],
      ['checks[0].interval', [{ kind: 'tcp', address: '127.0.0.1:9', interval: '-1s' }]],
      ['checks[0].interval', [{ kind: 'http', url }]],
      ['checks[0].url', [{ kind: 'http', url: 'not a url', interval: 100 }]],
      ['checks[0].url', [{ kind: 'http', url: 'ftp://127.0.0.1/x', interval: 100 }]],
      ['checks[0].address', [{ kind: 'tcp', address: '127.0.0.1', interval: 100 }]],
      ['checks[0].ttl', [{ kind: 'ttl', ttl: 'soon' }]],
      ['checks[0].failuresBeforeCritical', [{ kind: 'ttl', ttl: 100, failuresBeforeCritical: -1 }]],
      [
        'checks[1].timeout',
        [
          { kind: 'ttl', ttl: 1000 },
          { kind: 'http', url, interval: 100, timeout: 0 },
        ],
      ],
      [
        'checks[1].id',
        [
          { kind: 'ttl', ttl: 1000, id: 'beat' },
          { kind: 'ttl', ttl: 2000, id: 'beat' },
        ],
      ],
      ['checks', { kind: 'ttl', ttl: 1000 }],
    ]
    for (const [field, checks] of bad) {
      const attempt = owner.register({
        name: 'hc-bad',
        checks: checks as CheckDefinitionInput[],
      })
      await expect(attempt, `${field} in ${JSON.stringify(checks)}`).rejects.toThrow(
        ValidationError,
      )
      await expect(attempt).rejects.toMatchObject({ code: 'ERR_VALIDATION', field })
    }
    // A bad check on a re-registration leaves the stored instance as it was.
    await expect(
      owner.register({
        name: 'hc-kept',
        id: keptId,
        version: 'v2',
        checks: [{ kind: 'http', url: 'nope', interval: 100 }],
      }),
    ).rejects.toMatchObject({ field: 'checks[0].url' })
    expect(owner.localInstances()).toEqual(localBefore)
    expect(owner.checks(keptId)).toBeUndefined()
    expect(owner.service('hc-bad', { includeCritical: true })).toEqual([])

    // The owner's writes apply in order elsewhere: once a later one is there, any earlier
    // stray write would be too.
    const markerId = await owner.register({ name: 'hc-marker' })
    await waitFor('the marker on every node', () => visibleEverywhere('hc-marker', markerId))
    for (const agent of observers) {
      expect(agent.service('hc-bad', { includeCritical: true })).toEqual([])
      expect(agent.service('hc-kept', { includeCritical: true })).toEqual([
        expect.objectContaining({ id: keptId, version: 'v1', status: 'passing' }),
      ])
    }
    await owner.deregister(keptId)
    await owner.deregister(markerId)
  })
})
