import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

/**
 * Returns a check of a request's token against the configured one. The token comes as
 * `Authorization: Bearer <token>`, or as `X-Consul-Token: <token>`, which is how Consul
 * clients send their ACL token (so a Consul client configured with the token gets in). Both
 * sides are hashed first so the comparison is constant-time whatever the lengths.
 */
export function createTokenCheck(token: string): (headers: IncomingHttpHeaders) => boolean {
  const expected = createHash('sha256').update(token).digest()
  const matches = (given: string) =>
    timingSafeEqual(createHash('sha256').update(given).digest(), expected)
  return (headers) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')
    if (bearer !== null) return matches(bearer[1]!.trim())
    const consul = headers['x-consul-token']
    if (typeof consul === 'string' && consul !== '') return matches(consul.trim())
    return false
  }
}

/**
 * Routes that need no token: /health (process supervisors need no secret), the dashboard's
 * static page and files (no data: the page asks for the token and sends it on every data
 * request), and the routes the operator exempted (`ready` for Kubernetes probes, `metrics`
 * for Prometheus), which Consul users expect to leave open beside protected data routes.
 */
export function isOpenRoute(url: string, exempt: readonly string[]): boolean {
  const path = url.split('?', 1)[0] ?? url
  if (path === '/health' || path === '/' || path === '/ui' || path.startsWith('/ui/')) return true
  return exempt.some((route) => path === `/${route}`)
}
