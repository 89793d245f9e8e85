import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Returns a check of an `Authorization` header against the configured token. Both sides are
 * hashed first so the comparison is constant-time whatever the lengths.
 */
export function createTokenCheck(token: string): (header: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest()
  return (header) => {
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '')
    if (match === null) return false
    const given = createHash('sha256').update(match[1]!.trim()).digest()
    return timingSafeEqual(given, expected)
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
