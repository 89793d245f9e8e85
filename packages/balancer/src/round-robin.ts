import { type Picker, type RandomSource, randomIndex } from './picker.js'

export interface RoundRobinInit {
  /**
   * Chooses the starting position, so that many clients started together do not all hit
   * the first instance first.
   * @default Math.random
   */
  random?: RandomSource
}

/**
 * Round-robin (go-kit `lb.NewRoundRobin`): candidates in key order, each in turn. Over any
 * `k × n` consecutive picks from an unchanging list of `n`, each candidate gets exactly `k`.
 * When the list changes the counter carries on, so the turn moves to whoever sits at its
 * position in the new list.
 */
export function createRoundRobinPicker(init: RoundRobinInit = {}): Picker {
  const random = init.random ?? Math.random
  // 2^31 positions: large enough that the start is uniform for any realistic list length.
  let counter = randomIndex(random, 2 ** 31)
  return {
    pick(candidates) {
      const candidate = candidates[counter % candidates.length]!
      counter = (counter + 1) % Number.MAX_SAFE_INTEGER
      return { candidate }
    },
  }
}
