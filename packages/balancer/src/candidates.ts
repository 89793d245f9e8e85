import { type Endpoint, parseEndpoint, type ServiceInstance } from '@grapevine/core'
import type { Candidate } from './picker.js'

/**
 * The endpoint callers of `instance` use: its first endpoint whose scheme is in `schemes`
 * (in the instance's own order, which is its owner's preference), or its first endpoint when
 * `schemes` is empty. Unparseable endpoints are skipped: they were validated at registration,
 * so one here comes from a newer peer with a looser rule, and the others may still serve.
 */
export function chooseEndpoint(
  instance: ServiceInstance,
  schemes: readonly string[],
): Endpoint | undefined {
  for (const url of instance.endpoints) {
    let endpoint: Endpoint
    try {
      endpoint = parseEndpoint(url)
    } catch {
      continue
    }
    if (schemes.length === 0 || schemes.includes(endpoint.scheme)) return endpoint
  }
  return undefined
}

/** Candidates for the instances that have a usable endpoint, sorted by key. */
export function toCandidates(
  instances: readonly ServiceInstance[],
  schemes: readonly string[],
): Candidate[] {
  const out: Candidate[] = []
  for (const instance of instances) {
    const endpoint = chooseEndpoint(instance, schemes)
    if (endpoint !== undefined)
      out.push({ key: `${instance.id} ${endpoint.url}`, instance, endpoint })
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}
