import { type Picker, type RandomSource, randomIndex } from './picker.js'

export interface RandomInit {
  /** @default Math.random */
  random?: RandomSource
}

/**
 * Uniform random choice (go-kit `lb.NewRandom`, go-kratos `random`). No shared state, so
 * it spreads well across many independent clients.
 */
export function createRandomPicker(init: RandomInit = {}): Picker {
  const random = init.random ?? Math.random
  return {
    pick(candidates) {
      return { candidate: candidates[randomIndex(random, candidates.length)]! }
    },
  }
}
