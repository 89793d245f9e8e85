/**
 * @grapevine/balancer — client-side load balancing over the Grapevine registry: callers reach
 * only instances that work and spread load over them (go-kit `sd/lb`, go-kratos `selector`).
 *
 * - `createBalancer` follows one service through a `Discovery` (an agent) and picks an
 *   instance per call with a picker: round-robin, random, weighted (metadata `weight`) or p2c
 *   (power of two choices on in-flight calls and a latency EWMA), after filters by version,
 *   tags, metadata and endpoint scheme.
 * - `retry` runs a call on a fresh pick per attempt until one succeeds (go-kit `lb.Retry`).
 * - `createFetch` is a `fetch` that resolves `http://SERVICE/path` through the registry.
 * - `@grapevine/balancer/grpc` has `registerGrapevineResolver`, so that a grpc-js channel to
 *   `grapevine:///SERVICE` follows the registry. It is a separate entry point because
 *   `@grpc/grpc-js` is an optional peer dependency.
 *
 * Dependencies: `@grapevine/core` only.
 */
export {
  type Balancer,
  type BalancerInit,
  createBalancer,
  type DoneReport,
  type PickOptions,
  type Selected,
} from './balancer.js'
export { chooseEndpoint } from './candidates.js'
export {
  BalancerClosedError,
  HttpStatusError,
  NoInstancesError,
  RetryError,
  RetryTimeoutError,
} from './errors.js'
export {
  createFetch,
  type FetchInit,
  type FetchRetryInit,
  type GrapevineFetch,
  isRetryableFetchError,
} from './fetch.js'
export {
  applyFilters,
  type Filter,
  metadataFilter,
  preferFilter,
  schemeFilter,
  tagsFilter,
  versionFilter,
} from './filters.js'
export { createP2CPicker, type P2CInit } from './p2c.js'
export type {
  CallReport,
  Candidate,
  Clock,
  Picked,
  Picker,
  RandomSource,
} from './picker.js'
export { createRandomPicker, type RandomInit } from './random.js'
export {
  type AttemptContext,
  type RetryCallOptions,
  type RetryInit,
  type Retrying,
  retry,
} from './retry.js'
export { createRoundRobinPicker, type RoundRobinInit } from './round-robin.js'
export {
  createWeightedPicker,
  DEFAULT_WEIGHT,
  instanceWeight,
  WEIGHT_KEY,
  type WeightedInit,
} from './weighted.js'
