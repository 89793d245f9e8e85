import { ValidationError } from '@grapevine/core'
import { describe, expect, it } from 'vitest'
import { CHECK_LIMITS, validateChecks } from '../../src/checks/index.js'

function rejection(input: unknown): ValidationError {
  try {
    validateChecks(input)
  } catch (err) {
    if (err instanceof ValidationError) return err
    throw err
  }
  throw new Error('expected a ValidationError')
}

const http = { kind: 'http', url: 'http://127.0.0.1:8080/health', interval: '10s' }

describe('validateChecks', () => {
  // Issue 12, friction point 3: one duration grammar; a bare number is milliseconds.
  it('reads a bare number as milliseconds, as a JSON number or as digits (`--ttl-check 15000`)', () => {
    const [fromDigits] = validateChecks([{ kind: 'ttl', ttl: '15000' }])
    const [fromNumber] = validateChecks([{ kind: 'ttl', ttl: 15_000 }])
    expect(fromDigits).toMatchObject({ kind: 'ttl', ttl: 15_000 })
    expect(fromNumber).toMatchObject({ kind: 'ttl', ttl: 15_000 })
    const [timed] = validateChecks([{ ...http, interval: '2000', timeout: '500' }])
    expect(timed).toMatchObject({ interval: 2000, timeout: 500 })
  })

  it('fills in Consul-like defaults and converts durations to milliseconds', () => {
    const [check] = validateChecks([http])
    expect(check).toEqual({
      kind: 'http',
      id: 'http-0',
      name: 'HTTP GET http://127.0.0.1:8080/health',
      url: 'http://127.0.0.1:8080/health',
      method: 'GET',
      headers: {},
      interval: 10_000,
      timeout: 10_000,
      successesBeforePassing: 1,
      failuresBeforeCritical: 1,
      initialStatus: 'critical',
      deregisterCriticalAfter: undefined,
    })
    expect(Object.isFrozen(check)).toBe(true)
  })

  it('defaults the timeout to the interval, at most 10 s', () => {
    const [fast, slow] = validateChecks([
      { ...http, interval: 1500 },
      { ...http, id: 'slow', interval: '1m' },
    ])
    expect(fast).toMatchObject({ interval: 1500, timeout: 1500 })
    expect(slow).toMatchObject({ interval: 60_000, timeout: 10_000 })
  })

  it('accepts a timeout longer than the interval (runs never overlap)', () => {
    expect(validateChecks([{ ...http, interval: 1000, timeout: '5s' }])[0]).toMatchObject({
      timeout: 5000,
    })
  })

  it('normalizes every kind', () => {
    const checks = validateChecks([
      { ...http, method: 'head', headers: { Authorization: 'Bearer x' }, name: 'web' },
      { kind: 'tcp', address: '[::1]:5432', interval: 5000, failuresBeforeCritical: 3 },
      { kind: 'ttl', ttl: '30s', initialStatus: 'passing', deregisterCriticalAfter: '90m' },
    ])
    expect(checks[0]).toMatchObject({ id: 'web', name: 'web', method: 'HEAD' })
    expect(checks[0]).toMatchObject({ headers: { Authorization: 'Bearer x' } })
    expect(checks[1]).toMatchObject({
      id: 'tcp-1',
      name: 'TCP [::1]:5432',
      host: '::1',
      port: 5432,
      failuresBeforeCritical: 3,
    })
    expect(checks[2]).toMatchObject({
      id: 'ttl-2',
      name: 'TTL 30s',
      ttl: 30_000,
      initialStatus: 'passing',
      deregisterCriticalAfter: 5_400_000,
    })
  })

  it("treats Consul's 0 thresholds as 1 (the first result counts)", () => {
    expect(
      validateChecks([{ ...http, successesBeforePassing: 0, failuresBeforeCritical: 0 }])[0],
    ).toMatchObject({ successesBeforePassing: 1, failuresBeforeCritical: 1 })
  })

  it('loads a stored definition (the input, saved as JSON) to the same checks', () => {
    const input = [
      { ...http, method: 'post', headers: { a: 'b' }, timeout: '2s' },
      { kind: 'tcp', address: '[::1]:5432', interval: 5000, initialStatus: 'warning' },
      { kind: 'ttl', ttl: '30s', deregisterCriticalAfter: '1m', successesBeforePassing: 0 },
    ]
    expect(validateChecks(JSON.parse(JSON.stringify(input)))).toEqual(validateChecks(input))
  })

  // Finding 8: 1 ms was accepted, and 16 such checks cost 0.86 of a core.
  it.each([
    ['interval', [{ ...http, interval: 1 }], 'checks[0].interval'],
    [
      'interval',
      [{ kind: 'tcp', address: '127.0.0.1:9', interval: '999ms' }],
      'checks[0].interval',
    ],
    ['TTL', [{ kind: 'ttl', ttl: '10ms' }], 'checks[0].ttl'],
  ])('refuses a %s below 1 s, as Consul does', (_what, input, field) => {
    const error = rejection(input)
    expect(error.field).toBe(field)
    expect(error.message).toMatch(/at least 1s/)
  })

  it('takes a lower minimum when asked (tests)', () => {
    expect(validateChecks([{ ...http, interval: 10 }], { minInterval: 10 })[0]).toMatchObject({
      interval: 10,
    })
  })

  it.each([
    ['an unknown field', [{ ...http, extra: { deep: {} } }], 'checks[0].extra', /unknown field/],
    ['a field of another kind', [{ ...http, ttl: '10s' }], 'checks[0].ttl', /unknown field/],
    ['a Consul-cased field', [{ ...http, Interval: '10s' }], 'checks[0].Interval', /"interval"/],
    [
      'a prototype header',
      [{ ...http, headers: JSON.parse('{"__proto__":"x"}') }],
      'checks[0].headers.__proto__',
      /header name/,
    ],
  ])('refuses %s, naming it', (_what, input, field, message) => {
    const error = rejection(input)
    expect(error.field).toBe(field)
    expect(error.message).toMatch(message)
  })

  it('treats no checks as an empty list', () => {
    expect(validateChecks(undefined)).toEqual([])
    expect(validateChecks([])).toEqual([])
  })

  it.each([
    ['not a list', { ...http }, 'checks', /array/],
    ['too many', Array(CHECK_LIMITS.checks + 1).fill(http), 'checks', /at most/],
    ['not an object', ['http'], 'checks[0]', /object/],
    ['unknown kind', [{ ...http, kind: 'grpc' }], 'checks[0].kind', /"grpc".*http, tcp, ttl/],
    ['missing kind', [{ url: http.url, interval: 1 }], 'checks[0].kind', /not a check kind/],
    ['missing interval', [{ kind: 'http', url: http.url }], 'checks[0].interval', /required/],
    ['negative interval', [{ ...http, interval: -1 }], 'checks[0].interval', /positive/],
    ['negative interval string', [{ ...http, interval: '-5s' }], 'checks[0].interval', /positive/],
    ['zero interval', [{ ...http, interval: 0 }], 'checks[0].interval', /positive/],
    [
      'unparsable interval',
      [{ ...http, interval: '10 parsecs' }],
      'checks[0].interval',
      /duration/,
    ],
    ['interval over timer range', [{ ...http, interval: 2 ** 31 }], 'checks[0].interval', /24.8/],
    ['zero timeout', [{ ...http, timeout: '0' }], 'checks[0].timeout', /positive/],
    ['missing url', [{ kind: 'http', interval: 1 }], 'checks[0].url', /required/],
    ['unparsable url', [{ ...http, url: 'not a url' }], 'checks[0].url', /not a URL/],
    ['non-http url', [{ ...http, url: 'ftp://host/x' }], 'checks[0].url', /http/],
    ['bad method', [{ ...http, method: 'GET /' }], 'checks[0].method', /method/],
    ['bad header name', [{ ...http, headers: { 'a b': 'x' } }], 'checks[0].headers.a b', /name/],
    ['header injection', [{ ...http, headers: { a: 'x\r\nb: y' } }], 'checks[0].headers.a', /line/],
    ['missing address', [{ kind: 'tcp', interval: 1 }], 'checks[0].address', /host:port/],
    [
      'address without port',
      [{ kind: 'tcp', address: 'db', interval: 1 }],
      'checks[0].address',
      /host:port/,
    ],
    [
      'address with path',
      [{ kind: 'tcp', address: 'db:5/x', interval: 1 }],
      'checks[0].address',
      /host:port/,
    ],
    [
      'address port 0',
      [{ kind: 'tcp', address: 'db:0', interval: 1 }],
      'checks[0].address',
      /host:port/,
    ],
    [
      'address port too big',
      [{ kind: 'tcp', address: 'db:70000', interval: 1 }],
      'checks[0].address',
      /host:port/,
    ],
    ['missing ttl', [{ kind: 'ttl' }], 'checks[0].ttl', /required/],
    ['negative ttl', [{ kind: 'ttl', ttl: '-1s' }], 'checks[0].ttl', /positive/],
    [
      'bad threshold',
      [{ ...http, successesBeforePassing: 1.5 }],
      'checks[0].successesBeforePassing',
      /whole/,
    ],
    [
      'negative threshold',
      [{ ...http, failuresBeforeCritical: -1 }],
      'checks[0].failuresBeforeCritical',
      /whole/,
    ],
    [
      'bad initial status',
      [{ ...http, initialStatus: 'ok' }],
      'checks[0].initialStatus',
      /passing/,
    ],
    [
      'bad deregister',
      [{ ...http, deregisterCriticalAfter: 0 }],
      'checks[0].deregisterCriticalAfter',
      /positive/,
    ],
    ['bad id', [{ ...http, id: 'a b' }], 'checks[0].id', /match/],
    ['empty name', [{ ...http, name: '' }], 'checks[0].name', /non-empty/],
    ['duplicate id', [http, { ...http, id: 'http-0' }], 'checks[1].id', /another check/],
    [
      'duplicate name',
      [
        { ...http, name: 'x' },
        { ...http, name: 'x' },
      ],
      'checks[1].id',
      /another/,
    ],
  ])('rejects %s with a ValidationError on the field', (_case, input, field, reason) => {
    const err = rejection(input)
    expect(err.code).toBe('ERR_VALIDATION')
    expect(err.field).toBe(field)
    expect(err.reason).toMatch(reason)
  })

  it('names the failing check by its index', () => {
    expect(rejection([http, { kind: 'ttl', ttl: 'soon' }]).field).toBe('checks[1].ttl')
  })
})
