import { describe, expect, it } from 'vitest'
import { diff } from '../src/diff.js'
import { instance } from './view-fixtures.js'

describe('diff', () => {
  const a = instance('a', 'svc', 'N1')
  const b = instance('b', 'svc', 'N1')
  const c = instance('c', 'svc', 'N1')

  it('is empty for equal snapshots, even with other objects and order', () => {
    expect(diff([a, b], [instance('b', 'svc', 'N1'), instance('a', 'svc', 'N1')])).toEqual([])
    expect(diff([], [])).toEqual([])
  })

  it('turns new ids into adds and missing ids into deletes', () => {
    expect(diff([a, b], [b, c])).toEqual([
      { op: 'delete', instance: a, cause: 'deregistered' },
      { op: 'add', instance: c, cause: 'registered' },
    ])
  })

  it('names the cause of an update', () => {
    const moved = instance('a', 'svc', 'N2')
    const sick = instance('a', 'svc', 'N1', { status: 'critical' })
    const upgraded = instance('a', 'svc', 'N1', { version: 'v2' })
    expect(diff([a], [moved])).toEqual([{ op: 'update', instance: moved, cause: 'superseded' }])
    expect(diff([a], [sick])).toEqual([{ op: 'update', instance: sick, cause: 'health' }])
    expect(diff([a], [upgraded])).toEqual([
      { op: 'update', instance: upgraded, cause: 'registered' },
    ])
  })

  it('replays: applying the events to before gives after', () => {
    const before = [a, b, instance('d', 'svc', 'N1', { tags: ['x'] })]
    const after = [instance('b', 'svc', 'N2'), c, instance('d', 'svc', 'N1', { tags: ['y'] })]
    const state = new Map(before.map((i) => [i.id, i]))
    for (const event of diff(before, after)) {
      if (event.op === 'delete') state.delete(event.instance.id)
      else state.set(event.instance.id, event.instance)
    }
    expect([...state.values()].sort((x, y) => x.id.localeCompare(y.id))).toEqual(after)
  })
})
