import { createServer, type Server } from 'node:http'
import { createLocalAgent } from '@grapevine/core'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config/resolve-config.js'
import { type Daemon, startDaemon } from '../src/daemon/daemon.js'
import type { DaemonContext, FrontEnd } from '../src/daemon/front-end.js'
import type { ApiAgent } from '../src/http/agent-extensions.js'

const logger = pino({ level: 'silent' })
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

function configFor(flags: Record<string, unknown>) {
  return resolveConfig({
    flags: { mdns: 'false', leaveTimeout: '1s', dnsAddr: 'off', ...flags },
    env: {},
    readFile: () => '',
  }).config
}

/** A recording front end: what the daemon did to it, in order. */
function recordingFrontEnd(log: string[]): FrontEnd & { ctx?: DaemonContext } {
  const frontEnd: FrontEnd & { ctx?: DaemonContext } = {
    name: 'probe',
    async listen() {
      log.push('probe.listen')
      return 'probe://here'
    },
    async start(ctx) {
      log.push('probe.start')
      frontEnd.ctx = ctx
    },
    async stop() {
      log.push('probe.stop')
    },
  }
  return frontEnd
}

async function listeningServer(): Promise<{ server: Server; addr: string }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())))
  return { server, addr: `127.0.0.1:${port}` }
}

describe('startDaemon and its front ends', () => {
  it('binds every front end before the agent starts, then starts them over one context', async () => {
    const log: string[] = []
    const probe = recordingFrontEnd(log)
    const daemon: Daemon = await startDaemon(configFor({ httpAddr: '127.0.0.1:0' }), {
      createAgent: async () => {
        log.push('createAgent')
        return createLocalAgent({ nodeId: 'node-a' }) as ApiAgent
      },
      logger,
      readFile: () => '',
      frontEnds: [probe],
    })
    cleanups.push(() => daemon.shutdown('test'))
    expect(log).toEqual(['probe.listen', 'createAgent', 'probe.start'])
    expect(daemon.listening).toMatchObject({ probe: 'probe://here', http: daemon.url })
    expect(probe.ctx?.agent).toBe(daemon.agent)
    expect(probe.ctx?.nodeName).toBe('node-a')
    expect(probe.ctx?.cluster).toBe('default')
    const res = await fetch(`${daemon.url}/health`)
    expect(res.status).toBe(200)

    await daemon.shutdown('test')
    expect(log.at(-1)).toBe('probe.stop')
    expect(probe.ctx?.closing.aborted).toBe(true)
  })

  // Issue 12, friction point 8 (in-process half; test/ports-before-join.test.ts runs the binary).
  it('fails with a ListenError naming the flag, before the agent starts, when the HTTP port is taken', async () => {
    const { addr } = await listeningServer()
    let created = false
    const log: string[] = []
    const attempt = startDaemon(configFor({ httpAddr: addr }), {
      createAgent: async () => {
        created = true
        return createLocalAgent({ nodeId: 'node-a' }) as ApiAgent
      },
      logger,
      readFile: () => '',
      frontEnds: [recordingFrontEnd(log)],
    })
    await expect(attempt).rejects.toMatchObject({
      code: 'ERR_LISTEN',
      message: expect.stringContaining(
        `cannot serve the HTTP API on ${addr}: the address is in use`,
      ),
    })
    await expect(attempt).rejects.toThrow('--http-addr')
    expect(created).toBe(false)
    // Whatever had bound is let go again.
    expect(log).toContain('probe.stop')
  })

  it('accepts the token as X-Consul-Token, as Consul clients send it', async () => {
    const daemon = await startDaemon(configFor({ httpAddr: '127.0.0.1:0', token: 's3cret' }), {
      createAgent: async () => createLocalAgent({ nodeId: 'node-a' }) as ApiAgent,
      logger,
      readFile: () => '',
    })
    cleanups.push(() => daemon.shutdown('test'))
    expect((await fetch(`${daemon.url}/v1/members`)).status).toBe(401)
    const consul = await fetch(`${daemon.url}/v1/members`, {
      headers: { 'x-consul-token': 's3cret' },
    })
    expect(consul.status).toBe(200)
    const wrong = await fetch(`${daemon.url}/v1/members`, {
      headers: { 'x-consul-token': 'guess' },
    })
    expect(wrong.status).toBe(401)
  })
})
