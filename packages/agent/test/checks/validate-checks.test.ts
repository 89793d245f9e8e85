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
      { ...http, interval: 100 },
      { ...http, id: 'slow', interval: '1m' },
    ])
    expect(fast).toMatchObject({ interval: 100, timeout: 100 })
    expect(slow).toMatchObject({ interval: 60_000, timeout: 10_000 })
  })

  it('accepts a timeout longer than the interval (runs never overlap)', () => {
    expect(validateChecks([{ ...http, interval: 100, timeout: '1s' }])[0]).toMatchObject({
      timeout: 1000,
    })
  })

  it('normalizes every kind', () => {
    const checks = validateChecks([
      { ...http, method: 'head', headers: { Authorization: 'Bearer x' }, name: 'web' },
      { kind: 'tcp', address: '[::1]:5432', interval: 500, failuresBeforeCritical: 3 },
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

  it('accepts its own output unchanged (persisted definitions load again)', () => {
    const once = validateChecks([
      { ...http, method: 'post', headers: { a: 'b' }, timeout: '2s' },
      { kind: 'tcp', address: '[::1]:5432', interval: 500, initialStatus: 'warning' },
      { kind: 'ttl', ttl: '30s', deregisterCriticalAfter: '1m', successesBeforePassing: 0 },
    ])
    expect(validateChecks(JSON.parse(JSON.stringify(once)))).toEqual(once)
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
