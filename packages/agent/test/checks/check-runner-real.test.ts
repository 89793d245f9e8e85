import type { HealthStatus } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type CheckDefinitionInput,
  type CheckRunner,
  createCheckRunner,
  validateChecks as validateChecksWith,
} from '../../src/checks/index.js'
import { startHttpServer, startTcpServer } from './servers.js'

// These checks run at intervals far below the agent's 1 s minimum, to keep the tests fast.
const validateChecks = (input: unknown) => validateChecksWith(input, { minInterval: 0 })

// Real servers on 127.0.0.1, real timers, small intervals. Every wait is on a condition with
// a deadline.

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

/** A runner with the real clock and timers that records what it reports. */
function startRunner() {
  const history: HealthStatus[] = []
  const deregistered: string[] = []
  const runner: CheckRunner = createCheckRunner(
    {},
    {
      onStatus: (_id, status) => history.push(status),
      onDeregister: (id) => deregistered.push(id),
    },
  )
  cleanup.push(() => runner.stop())
  return { runner, history, deregistered }
}

function add(runner: CheckRunner, check: CheckDefinitionInput): HealthStatus {
  return runner.add('instance-1', validateChecks([check]))
}

describe('check runner against real servers', () => {
  it('flips an instance with its HTTP endpoint, with thresholds, and brings it back', async () => {
    let code = 200
    const blips: number[] = [] // one-off codes served before `code`
    let requests = 0
    const server = await startHttpServer((_req, res) => {
      requests += 1
      res.writeHead(blips.shift() ?? code).end()
    })
    cleanup.push(server.close)
    const { runner, history } = startRunner()
    const initial = add(runner, {
      kind: 'http',
      url: `${server.url}/health`,
      interval: 50,
      timeout: 1000,
      successesBeforePassing: 2,
      failuresBeforeCritical: 2,
    })
    expect(initial).toBe('critical')

    await waitFor('first passes', () => runner.status('instance-1') === 'passing', {
      timeoutMs: 5_000,
    })
    expect(requests).toBeGreaterThanOrEqual(2)

    // One bad answer among good ones is below the threshold: no flap.
    blips.push(500)
    const before = requests
    await waitFor('the blip and two more runs', () => requests >= before + 3, { timeoutMs: 5_000 })
    expect(history).toEqual(['passing'])

    code = 429
    await waitFor('warning on 429', () => runner.status('instance-1') === 'warning', {
      timeoutMs: 5_000,
    })
    code = 500
    await waitFor('critical on 500', () => runner.status('instance-1') === 'critical', {
      timeoutMs: 5_000,
    })
    expect(runner.checks('instance-1')?.[0]).toMatchObject({
      status: 'critical',
      lastResult: 'critical',
      output: expect.stringMatching(/: 500 Internal Server Error/),
    })
    code = 200
    await waitFor('recovery', () => runner.status('instance-1') === 'passing', { timeoutMs: 5_000 })
    expect(history).toEqual(['passing', 'warning', 'critical', 'passing'])
  })

  it('turns critical when the endpoint stops answering in time', async () => {
    let hang = false
    const server = await startHttpServer((_req, res) => {
      if (!hang) res.writeHead(200).end()
    })
    cleanup.push(server.close)
    const { runner } = startRunner()
    add(runner, { kind: 'http', url: server.url, interval: 50, timeout: 100 })
    await waitFor('first pass', () => runner.status('instance-1') === 'passing', {
      timeoutMs: 5_000,
    })
    hang = true
    await waitFor('timeout makes it critical', () => runner.status('instance-1') === 'critical', {
      timeoutMs: 5_000,
    })
    expect(runner.checks('instance-1')?.[0]?.output).toMatch(/timed out after 100ms/)
  })

  it('follows a TCP server that closes and comes back', async () => {
    const first = await startTcpServer()
    const { runner } = startRunner()
    add(runner, { kind: 'tcp', address: `127.0.0.1:${first.port}`, interval: 50, timeout: 500 })
    await waitFor('connects', () => runner.status('instance-1') === 'passing', { timeoutMs: 5_000 })
    await first.close()
    await waitFor('refused after close', () => runner.status('instance-1') === 'critical', {
      timeoutMs: 5_000,
    })
    expect(runner.checks('instance-1')?.[0]?.output).toMatch(/ECONNREFUSED/)
    const again = await startTcpServer(first.port)
    cleanup.push(again.close)
    await waitFor('connects again', () => runner.status('instance-1') === 'passing', {
      timeoutMs: 5_000,
    })
  })

  it('expires a TTL check that is not fed; pass restores it', async () => {
    const { runner, history } = startRunner()
    expect(add(runner, { kind: 'ttl', ttl: 100, id: 'app' })).toBe('critical')
    runner.ttlUpdate('instance-1', 'app', 'pass', 'ready')
    expect(runner.status('instance-1')).toBe('passing')
    const fedAt = performance.now()
    await waitFor('TTL expiry', () => runner.status('instance-1') === 'critical', {
      timeoutMs: 5_000,
    })
    // Timers never fire early; the bound only guards against expiring at once.
    expect(performance.now() - fedAt).toBeGreaterThanOrEqual(95)
    runner.ttlUpdate('instance-1', 'app', 'pass')
    expect(runner.status('instance-1')).toBe('passing')
    expect(history).toEqual(['passing', 'critical', 'passing'])
  })

  it('deregisters an instance whose endpoint stays critical', async () => {
    let requests = 0
    const server = await startHttpServer((_req, res) => {
      requests += 1
      res.writeHead(503).end()
    })
    cleanup.push(server.close)
    const { runner, deregistered } = startRunner()
    add(runner, {
      kind: 'http',
      url: server.url,
      interval: 50,
      initialStatus: 'passing',
      deregisterCriticalAfter: 200,
    })
    await waitFor('deregistration', () => deregistered.length > 0, { timeoutMs: 5_000 })
    expect(deregistered).toEqual(['instance-1'])
    expect(requests).toBeGreaterThanOrEqual(2) // critical from the first run on, then more runs
    expect(runner.status('instance-1')).toBeUndefined()
    expect(runner.instanceIds()).toEqual([])
  })
})
