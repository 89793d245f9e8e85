import type { Claim } from '../src/claim.js'
import { type ServiceInstance, validateInstance } from '../src/instance.js'
import type { VersionVector } from '../src/version-vector.js'

/** A frozen, valid instance owned by `node`. */
export function instance(
  id: string,
  name: string,
  node: string,
  extra: Partial<Omit<ServiceInstance, 'id' | 'name' | 'node'>> = {},
): ServiceInstance {
  return validateInstance({ id, name, node, endpoints: ['http://10.0.0.1:80'], ...extra })
}

/** A claim by `origin` on `id`; `payload` null is a tombstone. */
export function claim(
  origin: string,
  id: string,
  vv: VersionVector,
  payload: ServiceInstance | null,
  seq = 1,
  gen = 1,
): Claim {
  return Object.freeze({ origin, gen, seq, id, vv: Object.freeze({ ...vv }), instance: payload })
}

/** A live claim by `origin` whose instance belongs to service `name`. */
export function liveClaim(
  origin: string,
  id: string,
  name: string,
  vv: VersionVector,
  extra: Partial<Omit<ServiceInstance, 'id' | 'name' | 'node'>> = {},
): Claim {
  return claim(origin, id, vv, instance(id, name, origin, extra))
}
