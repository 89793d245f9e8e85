import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { checkPort } from '../src/port-check.js'

describe('port check', () => {
  it('tells a listening port from a closed one, at once', async () => {
    const server = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    expect(await checkPort({ host: '127.0.0.1', port }, 1_000)).toBe('open')

    await new Promise((resolve) => server.close(resolve))
    const startedAt = performance.now()
    expect(await checkPort({ host: '127.0.0.1', port }, 1_000)).toBe('refused')
    expect(performance.now() - startedAt).toBeLessThan(500)
  })
})
