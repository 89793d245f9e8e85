import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAgent, type GrapevineAgent } from '@grapevine/agent'
import { LIMITS } from '@grapevine/core'
import { seededRandom } from '@grapevine/core/testing'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHttpApi, type HttpApi } from '../src/http/http-api.js'

/**
 * An HTTP bad-input run against a real agent with a data dir: thousands of mixed malformed
 * requests (oversized, deeply nested, invalid UTF-8, wrong types for every field, path tricks,
 * huge counts). None may answer 5xx, no write may succeed, and nothing stored may change.
 */

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'
interface BadRequest {
  kind: string
  method: Method
  url: string
  payload?: string | Buffer
  contentType?: string
}

const SEED = Number(process.env.BAD_INPUT_SEED ?? 20261201)
const COUNT = 2_400
const random = seededRandom(SEED)
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
const int = (max: number) => Math.floor(random() * max)

const good = {
  name: 'web',
  version: 'v1',
  endpoints: ['http://127.0.0.1:8080'],
  tags: ['edge'],
  metadata: { zone: 'a' },
}
const CHECK = { kind: 'ttl' as const, ttl: '30s' }

/** Values of the wrong type (or shape) for a field expecting `expected`. */
const wrongValues = (expected: 'string' | 'list' | 'object' | 'checks'): unknown[] => {
  const all: unknown[] = [null, 0, -1, 1.5, 1e308, true, false, '', [], {}, [1], [null], { a: 1 }]
  if (expected === 'string') return all.filter((v) => v !== '' || random() < 0.5).concat([['x']])
  if (expected === 'list') return all.filter((v) => !Array.isArray(v) || v.length > 0).concat(['a'])
  if (expected === 'object')
    return all
      .filter(
        (v) =>
          !(
            typeof v === 'object' &&
            v !== null &&
            !Array.isArray(v) &&
            Object.keys(v).length === 0
          ),
      )
      .concat([{ k: 1 }, { k: null }, { k: ['v'] }])
  return all.filter((v) => !(Array.isArray(v) && v.length === 0))
}

const FIELDS: [string, 'string' | 'list' | 'object' | 'checks'][] = [
  ['id', 'string'],
  ['name', 'string'],
  ['version', 'string'],
  ['status', 'string'],
  ['metadata', 'object'],
  ['endpoints', 'list'],
  ['tags', 'list'],
  ['checks', 'checks'],
]
const CHECK_FIELDS = [
  'kind',
  'id',
  'name',
  'url',
  'method',
  'headers',
  'interval',
  'timeout',
  'address',
  'ttl',
  'successesBeforePassing',
  'failuresBeforeCritical',
  'initialStatus',
  'deregisterCriticalAfter',
]

function nested(depth: number, leaf: string): string {
  const open = pick(['[', '{"a":'])
  const close = open === '[' ? ']' : '}'
  return `${open.repeat(depth)}${leaf}${close.repeat(depth)}`
}

const json = (body: unknown) => JSON.stringify(body)
const register = (
  kind: string,
  payload: string | Buffer,
  contentType = 'application/json',
): BadRequest => ({
  kind,
  method: 'POST',
  url: '/v1/register',
  payload,
  contentType,
})

const generators: Record<string, () => BadRequest> = {
  oversized: () =>
    pick([
      () => register('oversized body', json({ ...good, version: 'v'.repeat(300 * 1024) })),
      () =>
        register(
          'oversized field',
          json({ ...good, version: 'v'.repeat(LIMITS.versionLength + 1 + int(1000)) }),
        ),
      () =>
        register('oversized id', json({ ...good, id: 'i'.repeat(LIMITS.idLength + 1 + int(500)) })),
      () =>
        register(
          'oversized name',
          json({ ...good, name: 'n'.repeat(LIMITS.nameLength + 1 + int(500)) }),
        ),
      () =>
        register(
          'oversized metadata',
          json({ ...good, metadata: { k: 'v'.repeat(LIMITS.metadataValueLength + 1) } }),
        ),
      () =>
        register(
          'oversized endpoint',
          json({ ...good, endpoints: [`http://${'h'.repeat(LIMITS.endpointLength)}:1`] }),
        ),
      () => ({
        kind: 'oversized path',
        method: pick(['DELETE', 'PUT'] as const),
        url: `/v1/${pick(['instances', 'deregister'])}/${'x'.repeat(400 + int(5000))}`,
      }),
      () => ({
        kind: 'oversized watch',
        method: 'GET' as const,
        url: `/v1/watch/${'w'.repeat(400 + int(5000))}`,
      }),
    ])(),
  nested: () => {
    const depth = pick([9, 10, 50, 1000, 10_000, 60_000])
    return pick([
      () => register('nested unknown field', `{"name":"web","extra":${nested(depth, '1')}}`),
      () => register('nested metadata', `{"name":"web","metadata":{"k":${nested(depth, '"v"')}}}`),
      () =>
        register(
          'nested check',
          `{"name":"web","checks":[{"kind":"ttl","ttl":"30s","headers":${nested(depth, '{}')}}]}`,
        ),
      () => register('nested top', nested(depth, '{"name":"web"}')),
      () => register('nested shallow unknown', `{"name":"web","x":${nested(1 + int(6), '0')}}`),
    ])()
  },
  utf8: () => {
    const bad = pick([
      [0xff],
      [0xc3, 0x28],
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80], // a surrogate, CESU-8 style
      [0xf0, 0x28, 0x8c, 0xbc],
      [0xc0, 0xaf], // overlong '/'
      [0xf8, 0x88, 0x80, 0x80, 0x80],
    ])
    const field = pick(['name', 'id', 'version', 'tags', 'metadata', 'endpoints'])
    const before = Buffer.from(`{"name":"web","${field === 'name' ? 'version' : field}":`)
    const value =
      field === 'tags' || field === 'endpoints'
        ? [Buffer.from('["a'), Buffer.from(bad), Buffer.from('"]')]
        : field === 'metadata'
          ? [Buffer.from('{"k":"'), Buffer.from(bad), Buffer.from('"}')]
          : [Buffer.from('"a'), Buffer.from(bad), Buffer.from('"')]
    return pick([
      () => register('invalid UTF-8 body', Buffer.concat([before, ...value, Buffer.from('}')])),
      () =>
        register(
          'lone surrogate escape',
          `{"name":"web","${pick(['version', 'id'])}":"x\\u${pick(['d800', 'dbff', 'dc00', 'dfff'])}"}`,
        ),
      () => register('lone surrogate in a tag', `{"name":"web","tags":["\\ud83d"]}`),
      () => ({
        kind: 'invalid UTF-8 path',
        method: pick(['DELETE', 'GET'] as const),
        url: `/v1/${pick(['instances', 'watch', 'services'])}/%${pick(['FF', 'C3%28', 'ED%A0%80', 'C0%AF'])}`,
      }),
      () => ({
        kind: 'invalid UTF-8 query',
        method: 'GET' as const,
        url: `/v1/services/web?meta=zone:%FF&tag=%C3%28`,
      }),
    ])()
  },
  wrongType: () => {
    const [field, expected] = pick(FIELDS)
    const value = pick(wrongValues(expected))
    return register(`wrong type: ${field}`, json({ ...good, [field]: value }))
  },
  wrongCheck: () => {
    const field = pick(CHECK_FIELDS)
    const value = pick([
      null,
      0,
      -5,
      1e308,
      true,
      '',
      [],
      {},
      ['x'],
      { a: 1 },
      '1ms',
      'nope',
      'ftp://x',
    ])
    const base = pick([
      { kind: 'http', url: 'http://127.0.0.1:1/', interval: '10s' },
      { kind: 'tcp', address: '127.0.0.1:1', interval: '10s' },
      CHECK,
    ])
    const check: Record<string, unknown> = { ...base, [field]: value }
    // Keep only definitions that are certainly wrong: a valid one would register.
    if (field === 'name' && typeof value === 'string' && value !== '') check.interval = '1ms'
    if (['timeout', 'deregisterCriticalAfter'].includes(field) && value === 'nope')
      check.kind = 'nope'
    return register(
      `wrong check field: ${field}`,
      json({ ...good, checks: [check, { ...check, kind: 42 }] }),
    )
  },
  unknownField: () =>
    register(
      'unknown field',
      json({
        ...good,
        [pick([
          'Name',
          'ID',
          'Tags',
          'Meta',
          'node',
          'Port',
          'Address',
          '__proto__',
          'constructor',
          'service',
        ])]: pick(['api', 1, {}, []]),
      }),
    ),
  reserved: () =>
    pick([
      () => register('reserved id', json({ ...good, id: pick(['.', '..', '__proto__']) })),
      () =>
        register(
          'prototype metadata key',
          `{"name":"web","metadata":{"${pick(['__proto__', 'constructor', 'prototype'])}":"x"}}`,
        ),
      () =>
        register(
          'prototype header',
          `{"name":"web","checks":[{"kind":"http","url":"http://127.0.0.1:1/","interval":"10s","headers":{"__proto__":"x"}}]}`,
        ),
      () => ({
        kind: 'prototype meta query',
        method: 'GET' as const,
        url: `/v1/services/web?meta=${pick(['__proto__', 'constructor', 'prototype'])}:x`,
      }),
    ])(),
  pathTricks: () => {
    const segment = pick([
      '..',
      '.',
      '%2e%2e',
      '%2E',
      '..%2f..%2fetc',
      '%2e%2e%2f',
      '%252e%252e',
      'a%00b',
      '%00',
      'a%2Fb',
      '%20',
      '%u002e',
      '%',
      '%zz',
      'a b',
      '\\..\\',
      'x;y',
      'web%3F',
      '%23',
    ])
    return pick([
      () => ({
        kind: 'path trick deregister',
        method: pick(['DELETE', 'PUT'] as const),
        url: `/v1/${pick(['instances', 'deregister'])}/${segment}`,
      }),
      () => ({
        kind: 'path trick ttl',
        method: 'POST' as const,
        url: `/v1/ttl/${segment}/${pick([segment, 'ttl-0'])}/${pick(['pass', 'fail', segment])}`,
      }),
      () => ({
        kind: 'path trick read',
        method: pick(['GET', 'HEAD'] as const),
        url: `/v1/${pick(['services', 'watch'])}/${segment}`,
      }),
      () => ({
        kind: 'path trick route',
        method: pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const),
        url: pick([
          '//v1//register',
          '/v1/register/',
          '/v1/../v1/register',
          '/v1/%72egister',
          '/v1/instances/',
          '/v1/instances',
          '/V1/REGISTER',
          '/v1/register?x=%',
          '/v1/instances/web-1/extra',
        ]),
      }),
    ])()
  },
  hugeCounts: () =>
    pick([
      () =>
        register(
          'too many tags',
          json({
            ...good,
            tags: Array.from({ length: LIMITS.tags + 1 + int(5000) }, (_, i) => `t${i}`),
          }),
        ),
      () =>
        register(
          'too many endpoints',
          json({
            ...good,
            endpoints: Array.from(
              { length: LIMITS.endpoints + 1 + int(500) },
              (_, i) => `http://a:${(i % 65000) + 1}`,
            ),
          }),
        ),
      () =>
        register(
          'too many metadata pairs',
          json({
            ...good,
            metadata: Object.fromEntries(
              Array.from({ length: LIMITS.metadataPairs + 1 + int(2000) }, (_, i) => [
                `k${i}`,
                'v',
              ]),
            ),
          }),
        ),
      () =>
        register(
          'too many checks',
          json({
            ...good,
            checks: Array.from({ length: 17 + int(100) }, (_, i) => ({ ...CHECK, id: `c${i}` })),
          }),
        ),
      () => ({
        kind: 'huge index',
        method: 'GET' as const,
        url: `/v1/services/web?index=${pick(['99999999999999999999', '-1', '1e9', 'NaN', '0x10', '9007199254740993'])}`,
      }),
      () => ({
        kind: 'huge wait',
        method: 'GET' as const,
        url: `/v1/services/web?index=1&wait=${pick(['1000000h', '11m', '-1s', '1y', 'forever', '1e400ms'])}`,
      }),
      () => ({
        kind: 'repeated query',
        method: 'GET' as const,
        url: `/v1/services/web?${Array.from({ length: 2 + int(50) }, () => 'version=v1').join('&')}`,
      }),
      () => ({
        kind: 'bad flag',
        method: 'GET' as const,
        url: `/v1/services?all=${pick(['yes', 'TRUE', '2', 'all'])}`,
      }),
    ])(),
  notJson: () =>
    register(
      'not JSON',
      pick([
        '{',
        '{"name":',
        'name=web',
        '[1,2',
        '"\\x"',
        'nul',
        '{"name":"web",}',
        '\u0000',
        '{"name":"web"}{"name":"x"}',
        '{"name":"w\\',
        'NaN',
      ]),
      pick([
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]),
    ),
  wrongBody: () => register('wrong body shape', json(pick([null, 1, 'web', [], [good], true]))),
  badTtlReport: () => ({
    kind: 'bad TTL report',
    method: 'POST',
    url: `/v1/ttl/${pick(['nope', 'web-1', 'ttl-instance'])}/${pick(['nope', 'missing'])}/${pick(['pass', 'warn', 'fail', 'ok', ''])}`,
    payload: pick(['', json({ note: 1 }), json([]), json({ note: 'x'.repeat(10) })]),
    contentType: 'application/json',
  }),
  unknownDeregister: () => ({
    kind: 'deregister unknown',
    method: pick(['DELETE', 'PUT'] as const),
    url: `/v1/${pick(['instances', 'deregister'])}/${pick(['nope', 'web-9', 'x'.repeat(128), encodeURIComponent(':@'.repeat(64))])}`,
  }),
}

describe('HTTP bad-input run', () => {
  let root: string
  let agent: GrapevineAgent
  let api: HttpApi

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `grapevine-bad-input-${process.pid}-`))
    agent = await createAgent({
      cluster: 'bad-input',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      dataDir: join(root, 'data'),
    })
    api = createHttpApi({ agent, logger: pino({ level: 'silent' }) })
    await agent.register({ id: 'web-1', ...good })
    await agent.register({ id: 'web-2', name: 'web', tags: ['blue'] })
    await agent.register({ id: 'ttl-instance', name: 'db', checks: [{ ...CHECK, id: 'ttl-0' }] })
  })
  afterAll(async () => {
    await api.server.close()
    await agent.stop()
    await rm(root, { recursive: true, force: true })
  })

  const snapshot = async () =>
    JSON.stringify({
      file: await readFile(join(root, 'data', 'registrations.json'), 'utf8'),
      own: agent.localInstances(),
      view: [...agent.services({ includeCritical: true })],
      claims: agent.stats().claims,
      checks: agent
        .checks('ttl-instance')
        ?.map(({ id, status, output }) => ({ id, status, output })),
    })

  it(`answers ${COUNT} malformed requests without a 5xx or a change to stored state (seed ${SEED})`, async () => {
    const before = await snapshot()
    const kinds = Object.keys(generators)
    const byStatus = new Map<number, number>()
    const failures: string[] = []
    for (let i = 0; i < COUNT; i++) {
      const request = generators[kinds[i % kinds.length]!]!()
      const res = await api.server.inject({
        method: request.method,
        url: request.url,
        ...(request.payload !== undefined && { payload: request.payload }),
        headers: { 'content-type': request.contentType ?? 'application/json' },
      })
      byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1)
      const write = request.method !== 'GET' && request.method !== 'HEAD'
      if (res.statusCode >= 500 || (write && res.statusCode < 400)) {
        failures.push(
          `${request.kind}: ${request.method} ${request.url.slice(0, 120)} → ${res.statusCode} ${res.body.slice(0, 200)}`,
        )
      }
      if (res.statusCode >= 400 && request.method !== 'HEAD') {
        // Every refusal is our JSON error shape, with a code.
        const code = (res.json() as { error?: { code?: unknown } }).error?.code
        if (typeof code !== 'string' || !/^ERR_/.test(code)) {
          failures.push(
            `${request.kind}: ${request.method} ${request.url.slice(0, 120)} → ${res.statusCode} without an error code: ${res.body.slice(0, 200)}`,
          )
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([])
    expect(await snapshot()).toBe(before)
    // The mix reached the refusals it was built for, not just one kind of error.
    for (const status of [400, 404, 413, 414])
      expect(byStatus.get(status) ?? 0, `${status}s`).toBeGreaterThan(0)
  })
})
