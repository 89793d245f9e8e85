import { type HealthStatus, NotFoundError, ValidationError } from '@grapevine/core'
import { describe, expect, it } from 'vitest'
import {
  type CheckDefinitionInput,
  CheckNotFoundError,
  type CheckResult,
  createCheckRunner,
  type DeregisterCause,
  NotTtlCheckError,
  type Probe,
  type StatusChange,
  validateChecks as validateChecksWith,
} from '../../src/checks/index.js'
import { createManualClock } from './manual-clock.js'

// These checks run at intervals far below the agent's 1 s minimum, to keep the tests fast.
const validateChecks = (input: unknown) => validateChecksWith(input, { minInterval: 0 })

/** A runner on a manual clock whose probe returns whatever `health` says at the time. */
function setup(init: { initialStagger?: number; checkUpdateInterval?: number } = {}) {
  const clock = createManualClock(1000)
  const health = new Map<string, HealthStatus>()
  const probes: string[] = []
  const changes: { id: string; status: HealthStatus; change: StatusChange }[] = []
  const deregistered: { id: string; cause: DeregisterCause }[] = []
  const reports: { id: string; status: HealthStatus; checks: string[] }[] = []
  const probe: Probe = async (check) => {
    probes.push(check.id)
    return { status: health.get(check.id) ?? 'passing', output: `probe of ${check.id}` }
  }
  const runner = createCheckRunner(init, {
    now: clock.now,
    scheduler: clock.scheduler,
    probe,
    random: () => 0.5,
    onStatus: (id, status, change) => changes.push({ id, status, change }),
    onDeregister: (id, cause) => deregistered.push({ id, cause }),
    onChecks: (id, status, checks) =>
      reports.push({ id, status, checks: checks.map((c) => `${c.id}:${c.status}:${c.output}`) }),
  })
  return { clock, health, probes, changes, deregistered, reports, runner }
}

const http = (fields: Partial<CheckDefinitionInput> = {}): CheckDefinitionInput =>
  ({
    kind: 'http',
    url: 'http://127.0.0.1:1/health',
    interval: 100,
    ...fields,
  }) as CheckDefinitionInput

describe('check runner', () => {
  it('starts a new instance critical and turns it passing on the first pass', async () => {
    const { clock, runner, changes } = setup()
    expect(runner.add('a', validateChecks([http()]))).toBe('critical')
    expect(changes).toEqual([]) // the initial status is returned, not reported
    await clock.advance(0)
    expect(runner.status('a')).toBe('passing')
    expect(changes).toMatchObject([
      { id: 'a', status: 'passing', change: { previous: 'critical', check: { id: 'http-0' } } },
    ])
  })

  it('honours initialStatus', () => {
    const { runner } = setup()
    expect(runner.add('a', validateChecks([http({ initialStatus: 'passing' })]))).toBe('passing')
    expect(runner.add('b', validateChecks([http({ initialStatus: 'warning' })]))).toBe('warning')
  })

  it('runs on its interval and applies thresholds without flapping', async () => {
    const { clock, runner, health, probes, changes } = setup()
    runner.add(
      'a',
      validateChecks([http({ successesBeforePassing: 2, failuresBeforeCritical: 2 })]),
    )
    await clock.advance(0)
    expect(runner.status('a')).toBe('critical') // one pass is not enough
    await clock.advance(100)
    expect(runner.status('a')).toBe('passing')
    expect(probes).toHaveLength(2)

    health.set('http-0', 'critical')
    await clock.advance(100)
    expect(runner.status('a')).toBe('passing') // one failure is not enough
    health.set('http-0', 'passing')
    await clock.advance(100)
    health.set('http-0', 'critical')
    await clock.advance(100)
    expect(runner.status('a')).toBe('passing') // failures were not consecutive
    await clock.advance(100)
    expect(runner.status('a')).toBe('critical')
    expect(changes.map((c) => c.status)).toEqual(['passing', 'critical'])
    expect(runner.checks('a')).toMatchObject([
      { status: 'critical', failures: 2, successes: 0, lastResult: 'critical', lastRunMsAgo: 0 },
    ])
  })

  it('reports the worst check as the instance status', async () => {
    const { clock, runner, health, changes } = setup()
    health.set('web', 'warning')
    runner.add(
      'a',
      validateChecks([http({ id: 'web' }), { kind: 'tcp', address: 'x:1', interval: 100 }]),
    )
    await clock.advance(0)
    expect(runner.status('a')).toBe('warning')
    health.set('web', 'passing')
    await clock.advance(100)
    expect(runner.status('a')).toBe('passing')
    expect(changes.map((c) => [c.status, c.change.check.id])).toEqual([
      ['warning', 'tcp-1'],
      ['passing', 'web'],
    ])
  })

  it('never overlaps runs of one check and times from the end of a run', async () => {
    const { clock } = setup()
    let inFlight = 0
    let maxInFlight = 0
    const resolvers: ((r: CheckResult) => void)[] = []
    const probe: Probe = () => {
      inFlight += 1
      maxInFlight = Math.max(maxInFlight, inFlight)
      return new Promise((resolve) => resolvers.push(resolve))
    }
    const runner = createCheckRunner(
      {},
      {
        now: clock.now,
        scheduler: clock.scheduler,
        probe,
        onStatus: () => {},
        onDeregister: () => {},
      },
    )
    runner.add('a', validateChecks([http({ interval: 100, timeout: 1000 })]))
    await clock.advance(500) // the first run hangs through several intervals
    expect(resolvers).toHaveLength(1)
    inFlight -= 1
    resolvers[0]!({ status: 'passing', output: '' })
    await clock.advance(99)
    expect(resolvers).toHaveLength(1)
    await clock.advance(1)
    expect(resolvers).toHaveLength(2)
    expect(maxInFlight).toBe(1)
    runner.stop()
  })

  it('aborts a run in flight on remove and ignores its result', async () => {
    const clock = createManualClock()
    const signals: AbortSignal[] = []
    let reports = 0
    const runner = createCheckRunner(
      {},
      {
        now: clock.now,
        scheduler: clock.scheduler,
        // Hangs until aborted, then claims success: a result that must be ignored.
        probe: (_check, signal) => {
          signals.push(signal!)
          return new Promise((resolve) =>
            signal!.addEventListener('abort', () => resolve({ status: 'passing', output: '' })),
          )
        },
        onStatus: () => {
          reports += 1
        },
        onDeregister: () => {},
      },
    )
    runner.add('a', validateChecks([http()]))
    await clock.advance(0)
    expect(signals).toHaveLength(1)
    expect(runner.remove('a')).toBe(true)
    expect(signals[0]!.aborted).toBe(true)
    await clock.advance(1000)
    expect(reports).toBe(0)
    expect(clock.pending()).toBe(0)
    expect(runner.remove('a')).toBe(false)
  })

  it('staggers first runs when asked', async () => {
    const { clock, runner, probes } = setup({ initialStagger: 1 })
    runner.add('a', validateChecks([http({ interval: 100 })]))
    await clock.advance(49)
    expect(probes).toHaveLength(0)
    await clock.advance(1) // random() = 0.5 of the interval
    expect(probes).toHaveLength(1)
  })

  it('expires a TTL check that is not fed, and a report restores it', async () => {
    const { clock, runner, changes } = setup()
    const checks = validateChecks([{ kind: 'ttl', ttl: '1s', id: 'app' }])
    expect(runner.add('a', checks)).toBe('critical')
    runner.ttlUpdate('a', 'app', 'pass', 'all good')
    expect(runner.status('a')).toBe('passing')
    await clock.advance(999)
    runner.ttlUpdate('a', 'app', 'pass') // resets the deadline
    await clock.advance(999)
    expect(runner.status('a')).toBe('passing')
    await clock.advance(1)
    expect(runner.status('a')).toBe('critical')
    expect(runner.checks('a')?.[0]?.output).toMatch(/TTL expired.*1s/)
    runner.ttlUpdate('a', 'app', 'warn', 'degraded')
    expect(runner.status('a')).toBe('warning')
    expect(runner.checks('a')?.[0]).toMatchObject({ output: 'degraded', lastResult: 'warning' })
    runner.ttlUpdate('a', 'app', 'fail')
    expect(changes.map((c) => c.status)).toEqual(['passing', 'critical', 'warning', 'critical'])
  })

  // Issue 12, friction point 6: what replicates of the checks, and when.
  it('reports check states at once on a status change or first result, output alone at most every checkUpdateInterval', async () => {
    const { clock, runner, reports } = setup({ checkUpdateInterval: 1000 })
    runner.add(
      'a',
      validateChecks([
        { kind: 'ttl', ttl: '1h', id: 'app', initialStatus: 'passing' },
        { kind: 'ttl', ttl: '1h', id: 'db', initialStatus: 'passing' },
      ]),
    )
    // The first result counts even when it keeps the status (its output is news).
    runner.ttlUpdate('a', 'app', 'pass', 'first')
    expect(reports).toEqual([
      { id: 'a', status: 'passing', checks: ['app:passing:first', 'db:passing:'] },
    ])
    // One check's status changes while the aggregate does not: reported at once.
    runner.ttlUpdate('a', 'db', 'pass', 'up')
    runner.ttlUpdate('a', 'db', 'warn', 'slow')
    expect(reports.at(-1)).toEqual({
      id: 'a',
      status: 'warning',
      checks: ['app:passing:first', 'db:warning:slow'],
    })
    const count = reports.length
    // Output alone: held back until the interval has passed, then sent with the next result.
    runner.ttlUpdate('a', 'app', 'pass', 'second')
    await clock.advance(999)
    runner.ttlUpdate('a', 'app', 'pass', 'third')
    expect(reports).toHaveLength(count)
    await clock.advance(1)
    runner.ttlUpdate('a', 'app', 'pass', 'third')
    expect(reports).toHaveLength(count + 1)
    expect(reports.at(-1)?.checks).toEqual(['app:passing:third', 'db:warning:slow'])
  })

  it('expires a TTL check regardless of failuresBeforeCritical', async () => {
    const { clock, runner } = setup()
    runner.add(
      'a',
      validateChecks([
        { kind: 'ttl', ttl: 100, failuresBeforeCritical: 5, initialStatus: 'passing' },
      ]),
    )
    await clock.advance(100)
    expect(runner.status('a')).toBe('critical')
  })

  it('rejects bad TTL reports with typed errors', () => {
    const { runner } = setup()
    runner.add('a', validateChecks([{ kind: 'ttl', ttl: 100 }, http({ id: 'web' })]))
    expect(() => runner.ttlUpdate('nope', 'ttl-0', 'pass')).toThrow(NotFoundError)
    expect(() => runner.ttlUpdate('a', 'nope', 'pass')).toThrow(CheckNotFoundError)
    // Friction point 2: the message names the CLI command that lists check ids.
    expect(() => runner.ttlUpdate('a', 'nope', 'pass')).toThrow(/`grapevine instances`/)
    expect(() => runner.ttlUpdate('a', 'web', 'pass')).toThrow(NotTtlCheckError)
    expect(() => runner.ttlUpdate('a', 'ttl-0', 'ok' as 'pass')).toThrow(ValidationError)
    expect(() => runner.ttlUpdate('a', 'ttl-0', 'toString' as 'pass')).toThrow(ValidationError)
    try {
      runner.ttlUpdate('a', 'web', 'pass')
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_NOT_TTL_CHECK', checkId: 'web', instanceId: 'a' })
    }
  })

  it('deregisters an instance critical for deregisterCriticalAfter', async () => {
    const { clock, runner, health, deregistered } = setup()
    health.set('http-0', 'critical')
    runner.add(
      'a',
      validateChecks([http({ initialStatus: 'passing', deregisterCriticalAfter: 1000 })]),
    )
    await clock.advance(0) // critical from now on
    await clock.advance(999)
    expect(deregistered).toEqual([])
    await clock.advance(1)
    expect(deregistered).toMatchObject([
      { id: 'a', cause: { criticalForMs: 1000, check: { id: 'http-0' } } },
    ])
    expect(runner.status('a')).toBeUndefined()
    expect(clock.pending()).toBe(0)
  })

  it('counts a new instance that never passes from registration', async () => {
    const { clock, runner, deregistered } = setup()
    runner.add('a', validateChecks([{ kind: 'ttl', ttl: 100, deregisterCriticalAfter: 250 }]))
    await clock.advance(250)
    expect(deregistered.map((d) => d.id)).toEqual(['a'])
  })

  it('restarts the deregistration countdown after a recovery', async () => {
    const { clock, runner, health, deregistered } = setup()
    health.set('http-0', 'critical')
    // Critical from registration (t=0): due at 350 unless it recovers first.
    runner.add('a', validateChecks([http({ deregisterCriticalAfter: 350 })]))
    await clock.advance(250)
    health.set('http-0', 'passing')
    await clock.advance(50) // the run at 300 passes
    health.set('http-0', 'critical')
    await clock.advance(400) // critical again from the run at 400: due at 750
    expect(deregistered).toEqual([])
    await clock.advance(49)
    expect(deregistered).toEqual([])
    await clock.advance(1)
    expect(deregistered).toMatchObject([{ id: 'a', cause: { criticalForMs: 350 } }])
  })

  it('keeps the state of unchanged checks when an instance is added again', async () => {
    const { clock, runner, changes } = setup()
    runner.add('a', validateChecks([http({ id: 'web' })]))
    await clock.advance(0)
    expect(runner.status('a')).toBe('passing')
    const again = validateChecks([
      http({ id: 'web' }),
      { kind: 'ttl', ttl: 100, initialStatus: 'passing' },
    ])
    expect(runner.add('a', again)).toBe('passing')
    expect(runner.checks('a')?.map((c) => c.id)).toEqual(['web', 'ttl-1'])
    expect(runner.add('a', [])).toBe('passing')
    expect(runner.status('a')).toBeUndefined()
    expect(changes).toHaveLength(1)
  })

  it('routes a throwing callback to onError instead of the event loop', async () => {
    const clock = createManualClock()
    const errors: unknown[] = []
    const runner = createCheckRunner(
      {},
      {
        now: clock.now,
        scheduler: clock.scheduler,
        probe: async () => ({ status: 'passing', output: '' }),
        onStatus: () => {
          throw new Error('setStatus failed')
        },
        onDeregister: () => {},
        onError: (err, id) => errors.push([id, (err as Error).message]),
      },
    )
    runner.add('a', validateChecks([http()]))
    await clock.advance(0)
    expect(errors).toEqual([['a', 'setStatus failed']])
    expect(runner.status('a')).toBe('passing')
  })

  it('turns a rejecting probe into a critical result', async () => {
    const clock = createManualClock()
    const runner = createCheckRunner(
      {},
      {
        now: clock.now,
        scheduler: clock.scheduler,
        probe: () => Promise.reject(new Error('kaput')),
        onStatus: () => {},
        onDeregister: () => {},
      },
    )
    runner.add('a', validateChecks([http({ initialStatus: 'passing' })]))
    await clock.advance(0)
    expect(runner.checks('a')?.[0]).toMatchObject({
      status: 'critical',
      output: expect.stringMatching(/kaput/),
    })
  })

  it('refuses new instances once stopped', () => {
    const { runner } = setup()
    runner.add('a', validateChecks([http()]))
    runner.stop()
    expect(runner.instanceIds()).toEqual([])
    expect(() => runner.add('b', validateChecks([http()]))).toThrow(/stopped/)
  })
})
