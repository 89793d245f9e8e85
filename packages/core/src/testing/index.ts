/**
 * @grapevine/core/testing — helpers for tests of Grapevine and of code that embeds it, with no
 * test runner behind them: waits with a deadline and a seeded random generator. The agent
 * compliance suite, which needs vitest, is the package @grapevine/compliance.
 */
export { seededRandom } from './random.js'
export { isPending, type Truthy, uniqueName, waitFor, within } from './wait.js'
