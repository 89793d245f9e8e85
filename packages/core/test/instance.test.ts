import { describe, expect, it } from 'vitest'
import { endpointFor, parseEndpoint, parseWithUrl } from '../src/endpoint.js'
import { ValidationError } from '../src/errors.js'
import {
  instancesEqual,
  instanceToString,
  LIMITS,
  type ServiceInstance,
  truncateText,
  validateInstance,
  validateRegistration,
} from '../src/instance.js'

const NODE = 'node-1'
const nextId = (): string => 'generated-1'

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).code).toBe(ValidationError.code)
    return (err as ValidationError).field
  }
  return undefined
}

const registration = {
  id: 'user-1',
  name: 'user-service',
  version: 'v1.0.0',
  metadata: { zone: 'a', 'app.kubernetes.io/name': 'user' },
  endpoints: ['grpc://10.0.0.5:9000?isSecure=false', 'http://10.0.0.5:8000'],
  tags: ['edge', 'blue'],
  status: 'warning' as const,
}

describe('validateRegistration', () => {
  it('keeps every field, sets node and freezes the result', () => {
    const instance = validateRegistration(registration, NODE, nextId)
    expect(instance).toEqual({ ...registration, node: NODE })
    expect(Object.isFrozen(instance)).toBe(true)
    expect(Object.isFrozen(instance.metadata)).toBe(true)
    expect(Object.isFrozen(instance.endpoints)).toBe(true)
    expect(Object.isFrozen(instance.tags)).toBe(true)
  })

  it('fills defaults: generated id, empty version, lists and metadata, passing', () => {
    expect(validateRegistration({ name: 'svc' }, NODE, nextId)).toEqual({
      id: 'generated-1',
      name: 'svc',
      version: '',
      metadata: {},
      endpoints: [],
      tags: [],
      status: 'passing',
      node: NODE,
    })
  })

  it('a caller cannot set node: it is an unknown field of a registration', () => {
    expect(fieldOf(() => validateRegistration({ name: 'svc', node: 'evil' }, NODE, nextId))).toBe(
      'node',
    )
  })

  // Finding 1: an unknown field was stored unvalidated, and one with 10,000 levels of nesting
  // broke every later save of the data dir.
  it('rejects an unknown field, naming it, however deeply it nests', () => {
    let deep: unknown = {}
    for (let i = 0; i < 10_000; i++) deep = { deep }
    expect(() => validateRegistration({ name: 'svc', extra: deep }, NODE, nextId)).toThrow(
      'invalid extra: unknown field',
    )
    expect(fieldOf(() => validateRegistration({ name: 'svc', __proto__x: 1 }, NODE, nextId))).toBe(
      '__proto__x',
    )
    const own = JSON.parse('{"name":"svc","__proto__":{"x":1}}') as unknown
    expect(fieldOf(() => validateRegistration(own, NODE, nextId))).toBe('__proto__')
  })

  it('lets a caller allow fields it validates itself', () => {
    const input = { name: 'svc', checks: [] }
    expect(validateRegistration(input, NODE, nextId, ['checks']).name).toBe('svc')
    expect(fieldOf(() => validateRegistration(input, NODE, nextId))).toBe('checks')
  })

  // Issue 12, friction point 1: a missing required field says "required".
  it('says a missing name is required, and points a Consul-cased body at the right field', () => {
    expect(() => validateRegistration({}, NODE, nextId)).toThrow('invalid name: is required')
    expect(() => validateRegistration({ Name: 'api' }, NODE, nextId)).toThrow(
      'invalid Name: unknown field; did you mean "name"?',
    )
    expect(() => validateRegistration({ name: 'api', ID: 'a' }, NODE, nextId)).toThrow(
      'did you mean "id"?',
    )
  })

  // Finding 4: a lone surrogate became U+FFFD on the wire, so replicas differed.
  it.each<[string, Record<string, unknown>, string]>([
    ['version', { version: 'v1\ud800' }, 'version'],
    ['tag', { tags: ['ok', 'a\udc00b'] }, 'tags[1]'],
    ['metadata value', { metadata: { zone: '\ud83d' } }, 'metadata.zone'],
    ['endpoint', { endpoints: ['http://a:1/\ud800'] }, 'endpoints[0]'],
  ])('rejects a lone surrogate in the %s', (_name, change, field) => {
    expect(fieldOf(() => validateRegistration({ ...registration, ...change }, NODE, nextId))).toBe(
      field,
    )
  })

  it('accepts well-formed astral characters', () => {
    expect(
      validateRegistration({ name: 'svc', version: 'v1-\u{1F600}' }, NODE, nextId).version,
    ).toBe('v1-\u{1F600}')
  })

  // Finding 5: `.` and `..` cannot be addressed in a URL path (clients normalise them away).
  it.each(['.', '..'])('rejects the id %j', (id) => {
    expect(() => validateRegistration({ name: 'svc', id }, NODE, nextId)).toThrow('invalid id')
  })

  it('accepts ids with dots that are not whole path segments', () => {
    expect(validateRegistration({ name: 'svc', id: '...' }, NODE, nextId).id).toBe('...')
    expect(validateRegistration({ name: 'svc', id: 'a.b' }, NODE, nextId).id).toBe('a.b')
  })

  // Finding 6: a metadata key `__proto__` was dropped while the request succeeded.
  it.each(['__proto__', 'constructor', 'prototype'])(
    'rejects the metadata key %s instead of dropping it',
    (key) => {
      const metadata = JSON.parse(`{"${key}":"x","zone":"a"}`) as unknown
      expect(fieldOf(() => validateRegistration({ name: 'svc', metadata }, NODE, nextId))).toBe(
        `metadata key "${key}"`,
      )
    },
  )

  it.each([['id'], ['name']])('rejects __proto__ as the %s', (field) => {
    expect(
      fieldOf(() => validateRegistration({ name: 'svc', [field]: '__proto__' }, NODE, nextId)),
    ).toBe(field)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['name missing', { name: undefined }, 'name'],
    ['name empty', { name: '' }, 'name'],
    ['name not a string', { name: 42 }, 'name'],
    ['name too long', { name: 'a'.repeat(LIMITS.nameLength + 1) }, 'name'],
    ['name with a slash', { name: 'a/b' }, 'name'],
    ['name starting with a dot', { name: '.svc' }, 'name'],
    ['id empty', { id: '' }, 'id'],
    ['id with whitespace', { id: 'a b' }, 'id'],
    ['id with a slash', { id: 'a/b' }, 'id'],
    ['id too long', { id: 'a'.repeat(LIMITS.idLength + 1) }, 'id'],
    ['version not a string', { version: 1 }, 'version'],
    ['version too long', { version: 'v'.repeat(LIMITS.versionLength + 1) }, 'version'],
    ['metadata an array', { metadata: ['a'] }, 'metadata'],
    ['metadata a class instance', { metadata: new Map() }, 'metadata'],
    ['metadata value a number', { metadata: { zone: 1 } }, 'metadata.zone'],
    [
      'metadata value too long',
      { metadata: { zone: 'x'.repeat(LIMITS.metadataValueLength + 1) } },
      'metadata.zone',
    ],
    ['metadata key with a space', { metadata: { 'a b': 'x' } }, 'metadata key "a b"'],
    [
      'metadata with too many pairs',
      {
        metadata: Object.fromEntries(
          Array.from({ length: LIMITS.metadataPairs + 1 }, (_, i) => [`k${i}`, 'v']),
        ),
      },
      'metadata',
    ],
    [
      'metadata too large in total',
      {
        metadata: Object.fromEntries(
          Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(LIMITS.metadataValueLength)]),
        ),
      },
      'metadata',
    ],
    ['endpoints not an array', { endpoints: 'http://a:1' }, 'endpoints'],
    ['endpoint not a URL', { endpoints: ['http://a:1', 'not a url'] }, 'endpoints[1]'],
    ['endpoint without a port or default', { endpoints: ['tcp://10.0.0.1'] }, 'endpoints[0]'],
    ['endpoint not a string', { endpoints: [80] }, 'endpoints[0]'],
    [
      'endpoint too long',
      { endpoints: [`http://${'a'.repeat(LIMITS.endpointLength)}:1`] },
      'endpoints[0]',
    ],
    [
      'too many endpoints',
      { endpoints: Array.from({ length: LIMITS.endpoints + 1 }, (_, i) => `http://a:${i + 1}`) },
      'endpoints',
    ],
    ['tag with a comma', { tags: ['a,b'] }, 'tags[0]'],
    ['tag empty', { tags: ['ok', ''] }, 'tags[1]'],
    ['tag too long', { tags: ['t'.repeat(LIMITS.tagLength + 1)] }, 'tags[0]'],
    ['too many tags', { tags: Array.from({ length: LIMITS.tags + 1 }, (_, i) => `t${i}`) }, 'tags'],
    ['status unknown', { status: 'healthy' }, 'status'],
  ])('rejects %s, naming the field', (_name, change, field) => {
    expect(fieldOf(() => validateRegistration({ ...registration, ...change }, NODE, nextId))).toBe(
      field,
    )
  })

  it('rejects a registration that is not an object', () => {
    expect(fieldOf(() => validateRegistration(null, NODE, nextId))).toBe('registration')
    expect(fieldOf(() => validateRegistration([], NODE, nextId))).toBe('registration')
  })
})

describe('validateInstance', () => {
  const full: ServiceInstance = { ...registration, node: NODE }

  it('accepts a complete instance as received from the network', () => {
    expect(validateInstance(full)).toEqual(full)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['id missing', { id: undefined }, 'id'],
    ['node missing', { node: undefined }, 'node'],
    ['node empty', { node: '' }, 'node'],
    ['name bad', { name: '' }, 'name'],
    ['status bad', { status: 'up' }, 'status'],
  ])('rejects %s', (_name, change, field) => {
    expect(fieldOf(() => validateInstance({ ...full, ...change }))).toBe(field)
  })

  it('rejects a non-object', () => {
    expect(fieldOf(() => validateInstance('x'))).toBe('instance')
  })

  it('drops fields it does not know: a newer peer may send more', () => {
    expect(validateInstance({ ...full, extra: 1 })).toEqual(full)
  })

  it('rejects a lone surrogate from the network', () => {
    expect(fieldOf(() => validateInstance({ ...full, version: '\ud800' }))).toBe('version')
  })
})

describe('instance helpers', () => {
  const a = validateRegistration(registration, NODE, nextId)

  it('instancesEqual compares field by field, metadata as a map', () => {
    const b = validateRegistration(
      { ...registration, metadata: { 'app.kubernetes.io/name': 'user', zone: 'a' } },
      NODE,
      nextId,
    )
    expect(instancesEqual(a, b)).toBe(true)
    for (const change of [
      { version: 'v2' },
      { status: 'passing' as const },
      { tags: ['blue', 'edge'] },
      { endpoints: ['http://10.0.0.5:8000'] },
      { metadata: { zone: 'b', 'app.kubernetes.io/name': 'user' } },
      { metadata: { zone: 'a' } },
    ]) {
      expect(
        instancesEqual(a, validateRegistration({ ...registration, ...change }, NODE, nextId)),
      ).toBe(false)
    }
    expect(instancesEqual(a, { ...a, node: 'other' })).toBe(false)
  })

  it('instanceToString names service, id, version, endpoints, status and node', () => {
    expect(instanceToString(a)).toBe(
      'user-service/user-1@v1.0.0 [grpc://10.0.0.5:9000?isSecure=false, http://10.0.0.5:8000] warning on node-1',
    )
  })
})

describe('endpoints', () => {
  it.each([
    ['grpc://10.0.0.5:9000?isSecure=false', 'grpc', '10.0.0.5', 9000, false],
    ['grpc://10.0.0.5:9000?isSecure=true', 'grpc', '10.0.0.5', 9000, true],
    ['grpcs://svc.local', 'grpcs', 'svc.local', 443, true],
    ['http://example.com', 'http', 'example.com', 80, false],
    ['https://example.com:8443/path', 'https', 'example.com', 8443, true],
    ['wss://[::1]:9001', 'wss', '::1', 9001, true],
    ['tcp://10.0.0.1:5432', 'tcp', '10.0.0.1', 5432, false],
  ])('parses %s', (url, scheme, host, port, isSecure) => {
    expect(parseEndpoint(url)).toEqual({ url, scheme, host, port, isSecure })
  })

  it.each([
    ['no scheme', '10.0.0.1:80'],
    ['not a URL', 'not a url'],
    ['no port and no default', 'redis://10.0.0.1'],
    ['no host', 'file:///etc/passwd'],
  ])('rejects %s', (_name, url) => {
    expect(() => parseEndpoint(url)).toThrow(url)
  })

  // The common form is parsed without WHATWG URL (a join validates 200k endpoints): on every
  // combination of tricky parts, the result (or the error) is exactly URL's.
  it('parses the common form exactly as WHATWG URL does', () => {
    const schemes = ['http', 'https', 'grpc', 'grpcs', 'ws', 'wss', 'tcp', 'ftp', 'file', 'HTTP']
    const hosts = [
      '10.0.0.1',
      '255.255.255.255',
      '0.0.0.0',
      '256.1.1.1',
      '1.2.3',
      '010.0.0.1',
      'a.b',
      'localhost',
      'api-1.internal',
      'xn--bcher-kva.example',
      'xn--zz.example',
      'a..b',
      'foo.123',
      'foo.0x1f',
      '0x1f',
      '-a.com',
      'a-',
      'UPPER.com',
      '[::1]',
      'user@host',
      '',
    ]
    const ports = ['', ':', ':0', ':80', ':443', ':8080', ':65535', ':65536', ':09000', ':99999']
    const paths = ['', '/', '/a/b', '/../x', '/%zz', '/a b']
    const queries = ['', '?isSecure=true', '?isSecure=false', '?isSecure=1', '?x=1&isSecure=true']
    const outcome = (parse: (url: string) => unknown, url: string) => {
      try {
        return parse(url)
      } catch (err) {
        return (err as Error).message
      }
    }
    let compared = 0
    for (const scheme of schemes)
      for (const host of hosts)
        for (const port of ports)
          for (const path of paths)
            for (const query of queries) {
              const url = `${scheme}://${host}${port}${path}${query}`
              expect(outcome(parseEndpoint, url), url).toEqual(outcome(parseWithUrl, url))
              compared++
            }
    expect(compared).toBe(63_000)
  })

  it('endpointFor picks the first endpoint of a scheme', () => {
    const instance = validateRegistration(
      { name: 'svc', endpoints: ['http://a:1', 'grpc://b:2', 'grpc://c:3'] },
      NODE,
      nextId,
    )
    expect(endpointFor(instance, 'grpc')?.host).toBe('b')
    expect(endpointFor(instance, 'https')).toBeUndefined()
  })
})

// Issue 12, friction point 6: the owner's check states travel inside the instance.
describe('check summaries (friction point 6)', () => {
  const full: ServiceInstance = { ...registration, node: NODE }
  const check = { id: 'ttl-0', name: 'TTL 30s', status: 'critical', output: 'no report yet' }

  it('travel with a wire instance, frozen, and count in instancesEqual', () => {
    const withChecks = validateInstance({ ...full, checks: [check] })
    expect(withChecks.checks).toEqual([check])
    expect(Object.isFrozen(withChecks.checks)).toBe(true)
    expect(instancesEqual(withChecks, validateInstance(full))).toBe(false)
    const passing = validateInstance({ ...full, checks: [{ ...check, status: 'passing' }] })
    expect(instancesEqual(withChecks, passing)).toBe(false)
    // An empty list is no list, so both encode (and sign) alike.
    expect(validateInstance({ ...full, checks: [] })).toEqual(full)
  })

  it.each<[string, unknown, string]>([
    ['not a list', 'ttl-0', 'checks'],
    [
      'too many',
      Array.from({ length: LIMITS.checks + 1 }, (_, i) => ({ ...check, id: `c${i}` })),
      'checks',
    ],
    ['a duplicate id', [check, check], 'checks'],
    [
      'an unknown field (they are signed: nothing is dropped)',
      [{ ...check, url: 'x' }],
      'checks[0].url',
    ],
    ['a bad id', [{ ...check, id: 'a b' }], 'checks[0].id'],
    ['a missing name', [{ ...check, name: undefined }], 'checks[0].name'],
    ['a bad status', [{ ...check, status: 'up' }], 'checks[0].status'],
    [
      'output past the bound',
      [{ ...check, output: 'x'.repeat(LIMITS.checkOutputLength + 1) }],
      'checks[0].output',
    ],
    ['a lone surrogate in the output', [{ ...check, output: 'a\ud800' }], 'checks[0].output'],
  ])('refuses %s', (_name, checks, field) => {
    expect(fieldOf(() => validateInstance({ ...full, checks }))).toBe(field)
  })

  it('truncateText cuts to the bound without splitting a surrogate pair', () => {
    expect(truncateText('abcdef', 4)).toBe('abcd')
    expect(truncateText('abc😀', 4)).toBe('abc')
    expect(truncateText('a\ud800b', 8)).toBe('a\ufffdb')
    expect(truncateText('x'.repeat(5000), LIMITS.checkOutputLength)).toHaveLength(
      LIMITS.checkOutputLength,
    )
  })
})
