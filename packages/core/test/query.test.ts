import { describe, expect, it } from 'vitest'
import type { ServiceQuery } from '../src/agent-api.js'
import type { Claim } from '../src/claim.js'
import { isHealthy, matchesQuery, queryService, queryServices } from '../src/query.js'
import { createView } from '../src/view.js'
import { instance, liveClaim } from './view-fixtures.js'

function viewOf(claims: Claim[]) {
  const view = createView()
  const byId = new Map(claims.map((c) => [c.id, [c]]))
  view.refresh(
    byId.keys(),
    (id) => byId.get(id) ?? [],
    () => 'alive',
  )
  return view
}

const view = viewOf([
  liveClaim(
    'A',
    'a1',
    'api',
    { A: 1 },
    { version: 'v1', tags: ['edge', 'eu'], metadata: { zone: 'a' } },
  ),
  liveClaim('A', 'a2', 'api', { A: 2 }, { version: 'v2', tags: ['eu'], metadata: { zone: 'b' } }),
  liveClaim('B', 'a3', 'api', { B: 1 }, { version: 'v1', tags: ['edge'], status: 'critical' }),
  liveClaim(
    'B',
    'a4',
    'api',
    { B: 2 },
    { version: 'v1', status: 'warning', metadata: { zone: 'a', tier: 'x' } },
  ),
  liveClaim('B', 'd1', 'db', { B: 3 }, { tags: ['eu'] }),
  liveClaim('B', 'c1', 'cache', { B: 4 }, { tags: ['edge'], status: 'critical' }),
])
const ids = (list: readonly { id: string }[]) => list.map((i) => i.id)

describe('matchesQuery', () => {
  const subject = instance('x', 'svc', 'A', {
    version: 'v1',
    tags: ['a', 'b'],
    metadata: { k: 'v', k2: 'v2' },
  })
  it.each<[string, ServiceQuery | undefined, boolean]>([
    ['no query', undefined, true],
    ['all tags present', { tags: ['a', 'b'] }, true],
    ['a missing tag', { tags: ['a', 'c'] }, false],
    ['version', { version: 'v1' }, true],
    ['other version', { version: 'v2' }, false],
    ['metadata subset', { metadata: { k: 'v' } }, true],
    ['metadata mismatch', { metadata: { k: 'x' } }, false],
    ['metadata key absent', { metadata: { other: 'v' } }, false],
    ['empty filters', { tags: [], metadata: {} }, true],
  ])('%s', (_label, query, expected) => {
    expect(matchesQuery(subject, query)).toBe(expected)
  })

  it('excludes critical instances unless asked', () => {
    const critical = instance('x', 'svc', 'A', { status: 'critical' })
    expect(isHealthy(critical)).toBe(false)
    expect(matchesQuery(critical, undefined)).toBe(false)
    expect(matchesQuery(critical, { tags: [] })).toBe(false)
    expect(matchesQuery(critical, { includeCritical: true })).toBe(true)
  })
})

describe('queryService', () => {
  it('without filters returns the cached healthy list (warning included)', () => {
    expect(ids(queryService(view, 'api'))).toEqual(['a1', 'a2', 'a4'])
    expect(queryService(view, 'api')).toBe(view.healthy('api'))
    expect(queryService(view, 'api', { includeCritical: true })).toBe(view.all('api'))
  })

  it.each<[ServiceQuery, string[]]>([
    [{ tags: ['edge'] }, ['a1']],
    [{ tags: ['edge'], includeCritical: true }, ['a1', 'a3']],
    [{ tags: ['edge', 'eu'] }, ['a1']],
    [{ version: 'v1' }, ['a1', 'a4']],
    [{ version: 'v1', includeCritical: true }, ['a1', 'a3', 'a4']],
    [{ metadata: { zone: 'a' } }, ['a1', 'a4']],
    [{ metadata: { zone: 'a', tier: 'x' } }, ['a4']],
    [{ version: 'v2', tags: ['eu'], metadata: { zone: 'b' } }, ['a2']],
    [{ version: 'v9' }, []],
  ])('%j → %j', (query, expected) => {
    expect(ids(queryService(view, 'api', query))).toEqual(expected)
  })

  it('returns nothing for an unknown service', () => {
    expect(queryService(view, 'nope', { tags: ['edge'] })).toEqual([])
  })
})

describe('queryServices', () => {
  const summary = (map: Map<string, readonly { id: string }[]>) =>
    Object.fromEntries([...map].map(([name, list]) => [name, ids(list)]))

  it('lists healthy instances of every service, by name', () => {
    expect(summary(queryServices(view))).toEqual({ api: ['a1', 'a2', 'a4'], db: ['d1'] })
    expect([...queryServices(view).keys()]).toEqual(['api', 'db'])
  })

  it('includes critical on request', () => {
    expect(summary(queryServices(view, { includeCritical: true }))).toEqual({
      api: ['a1', 'a2', 'a3', 'a4'],
      cache: ['c1'],
      db: ['d1'],
    })
  })

  it('filters by every tag', () => {
    expect(summary(queryServices(view, { tags: ['eu'] }))).toEqual({
      api: ['a1', 'a2'],
      db: ['d1'],
    })
    expect(summary(queryServices(view, { tags: ['edge'], includeCritical: true }))).toEqual({
      api: ['a1', 'a3'],
      cache: ['c1'],
    })
    expect(summary(queryServices(view, { tags: ['edge', 'eu'] }))).toEqual({ api: ['a1'] })
    expect(queryServices(view, { tags: ['unknown'] }).size).toBe(0)
  })
})
