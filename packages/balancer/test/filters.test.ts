import { describe, expect, it } from 'vitest'
import { chooseEndpoint, toCandidates } from '../src/candidates.js'
import {
  applyFilters,
  metadataFilter,
  preferFilter,
  schemeFilter,
  tagsFilter,
  versionFilter,
} from '../src/filters.js'
import { instance } from './support.js'

const list = [
  instance('a', ['http://10.0.0.1:80'], {
    version: 'v1',
    tags: ['edge', 'eu'],
    metadata: { zone: 'a' },
  }),
  instance('b', ['grpc://10.0.0.2:9000', 'http://10.0.0.2:80'], { version: 'v2', tags: ['edge'] }),
  instance('c', ['grpc://10.0.0.3:9000'], { version: 'v2', metadata: { zone: 'b' } }),
  instance('d', [], { version: 'v1' }),
]
const ids = (instances: readonly { id: string }[]) => instances.map((i) => i.id)

describe('filters', () => {
  it('filter by version, tags, metadata and endpoint scheme', () => {
    expect(ids(versionFilter('v2')(list))).toEqual(['b', 'c'])
    expect(ids(versionFilter('v1', 'v2')(list))).toEqual(['a', 'b', 'c', 'd'])
    expect(ids(tagsFilter('edge')(list))).toEqual(['a', 'b'])
    expect(ids(tagsFilter('edge', 'eu')(list))).toEqual(['a'])
    expect(ids(metadataFilter({ zone: 'b' })(list))).toEqual(['c'])
    expect(ids(schemeFilter('grpc')(list))).toEqual(['b', 'c'])
    expect(ids(schemeFilter('http:')(list))).toEqual(['a', 'b'])
  })

  it('prefer keeps the preferred instances when there are any, else all', () => {
    expect(ids(preferFilter(metadataFilter({ zone: 'a' }))(list))).toEqual(['a'])
    expect(ids(preferFilter(metadataFilter({ zone: 'x' }))(list))).toEqual(['a', 'b', 'c', 'd'])
  })

  it('compose in order', () => {
    expect(ids(applyFilters(list, [versionFilter('v2'), schemeFilter('http')]))).toEqual(['b'])
    expect(ids(applyFilters(list, []))).toEqual(['a', 'b', 'c', 'd'])
  })
})

describe('candidates', () => {
  it("use the instance's first endpoint of an accepted scheme, dropping instances without", () => {
    expect(chooseEndpoint(list[1]!, ['http'])?.url).toBe('http://10.0.0.2:80')
    expect(chooseEndpoint(list[1]!, [])?.url).toBe('grpc://10.0.0.2:9000')
    expect(chooseEndpoint(list[3]!, [])).toBeUndefined()
    const http = toCandidates(list, ['http'])
    expect(http.map((c) => [c.instance.id, c.endpoint.host, c.endpoint.port])).toEqual([
      ['a', '10.0.0.1', 80],
      ['b', '10.0.0.2', 80],
    ])
  })

  it('skip endpoints that do not parse and are sorted by key', () => {
    const odd = instance('z', ['not a url', 'http://10.0.0.9:81'])
    expect(toCandidates([odd, list[0]!], []).map((c) => c.key)).toEqual([
      'a http://10.0.0.1:80',
      'z http://10.0.0.9:81',
    ])
  })
})
