import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../src/duration.js'
import { ValidationError } from '../src/errors.js'

describe('parseDuration', () => {
  it.each([
    [250, 250],
    [0, 0],
    ['0', 0],
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1h2m3s4ms', 3_723_004],
    [' 10s ', 10_000],
    ['-5s', -5000],
    // A bare number means milliseconds whether it is a JSON number or digits in a string.
    ['10', 10],
    ['10000', 10_000],
    [' 250 ', 250],
    ['1.5', 1.5],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each([['abc'], ['10x'], ['10 s'], ['s'], ['1d'], ['5sec'], [''], ['-'], [Number.NaN], [null]])(
    'rejects %j, naming the field',
    (input) => {
      const err = (() => {
        try {
          parseDuration(input, 'checks[0].interval')
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(ValidationError)
      expect(err).toMatchObject({ code: 'ERR_VALIDATION', field: 'checks[0].interval' })
    },
  )
})

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [1500, '1.5s'],
    [10_000, '10s'],
    [120_000, '2m'],
    [90_000, '90s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})
