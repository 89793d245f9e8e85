import { describe, expect, it } from 'vitest'
import { startTestServer } from './support/api-server.js'

/**
 * The daemon printed fastify's FSTDEP022 deprecation warning at every start: `maxParamLength`
 * belongs under `routerOptions` since fastify 5 (strict-http.test.ts shows it still applies).
 */
describe('the HTTP app', () => {
  it('starts without deprecation warnings', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error & { code?: string }) =>
      warnings.push(`${warning.code ?? warning.name}: ${warning.message}`)
    process.on('warning', onWarning)
    const server = await startTestServer()
    try {
      // process.emitWarning delivers on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => /FSTDEP|deprecat/i.test(w))).toEqual([])
    } finally {
      process.off('warning', onWarning)
      await server.api.close()
    }
  })
})
