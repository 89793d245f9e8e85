import type { IncomingMessage } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CHECK_LIMITS,
  type HttpCheckDefinition,
  httpStatusToHealth,
  probeHttp,
  probeTcp,
  type TcpCheckDefinition,
  validateChecks as validateChecksWith,
} from '../../src/checks/index.js'
import { closedPort, startHttpServer, startTcpServer } from './servers.js'

// These checks run at intervals far below the agent's 1 s minimum, to keep the tests fast.
const validateChecks = (input: unknown) => validateChecksWith(input, { minInterval: 0 })

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0)) await close()
})

function httpCheck(url: string, fields: Record<string, unknown> = {}): HttpCheckDefinition {
  return validateChecks([
    { kind: 'http', url, interval: 1000, ...fields },
  ])[0] as HttpCheckDefinition
}

function tcpCheck(address: string, timeout = 1000): TcpCheckDefinition {
  return validateChecks([
    { kind: 'tcp', address, interval: 1000, timeout },
  ])[0] as TcpCheckDefinition
}

describe('HTTP probe', () => {
  it.each([
    [200, 'passing'],
    [204, 'passing'],
    [299, 'passing'],
    [429, 'warning'],
    [404, 'critical'],
    [500, 'critical'],
    [503, 'critical'],
    [199, 'critical'],
  ])('maps %d to %s', (code, status) => {
    expect(httpStatusToHealth(code)).toBe(status)
  })

  it('judges a real response by its status code and keeps the body as output', async () => {
    let code = 200
    const server = await startHttpServer((_req, res) => {
      res.writeHead(code, { 'content-type': 'text/plain' })
      res.end(`answered ${code}`)
    })
    cleanup.push(server.close)
    const check = httpCheck(`${server.url}/health`)
    expect(await probeHttp(check)).toEqual({
      status: 'passing',
      output: `HTTP GET ${server.url}/health: 200 OK Output: answered 200`,
    })
    code = 429
    expect(await probeHttp(check)).toMatchObject({ status: 'warning', output: /429.*answered 429/ })
    code = 500
    expect(await probeHttp(check)).toMatchObject({
      status: 'critical',
      output: /500.*answered 500/,
    })
  })

  it('sends the method and headers, and follows redirects', async () => {
    const seen: IncomingMessage[] = []
    const server = await startHttpServer((req, res) => {
      seen.push(req)
      if (req.url === '/old') res.writeHead(302, { location: '/new' }).end()
      else res.writeHead(200).end()
    })
    cleanup.push(server.close)
    const check = httpCheck(`${server.url}/old`, { method: 'head', headers: { 'x-token': 't' } })
    expect((await probeHttp(check)).status).toBe('passing')
    expect(seen.map((r) => [r.method, r.url])).toEqual([
      ['HEAD', '/old'],
      ['HEAD', '/new'],
    ])
    expect(seen[0]!.headers).toMatchObject({
      'x-token': 't',
      'user-agent': 'Grapevine Health Check',
    })
  })

  it('truncates a large body', async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200)
      res.end('x'.repeat(1_000_000))
    })
    cleanup.push(server.close)
    const result = await probeHttp(httpCheck(server.url))
    expect(result.status).toBe('passing')
    expect(result.output.length).toBe(CHECK_LIMITS.outputLength)
  })

  it('is critical when the server does not answer within the timeout', async () => {
    const server = await startHttpServer(() => {}) // never answers
    cleanup.push(server.close)
    const started = performance.now()
    const result = await probeHttp(httpCheck(server.url, { timeout: 100 }))
    expect(result).toMatchObject({ status: 'critical', output: /timed out after 100ms/ })
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('is critical when the connection is refused', async () => {
    const port = await closedPort()
    const result = await probeHttp(httpCheck(`http://127.0.0.1:${port}/`))
    expect(result).toMatchObject({ status: 'critical', output: /ECONNREFUSED/ })
  })

  it('stops when its signal aborts', async () => {
    const server = await startHttpServer(() => {})
    cleanup.push(server.close)
    const controller = new AbortController()
    const pending = probeHttp(httpCheck(server.url, { timeout: 10_000 }), controller.signal)
    controller.abort()
    expect(await pending).toMatchObject({ status: 'critical', output: /check stopped/ })
  })
})

describe('TCP probe', () => {
  it('is passing when it connects and critical when refused', async () => {
    const server = await startTcpServer()
    const check = tcpCheck(`127.0.0.1:${server.port}`)
    expect(await probeTcp(check)).toEqual({
      status: 'passing',
      output: `TCP connect 127.0.0.1:${server.port}: Success`,
    })
    await server.close()
    expect(await probeTcp(check)).toMatchObject({ status: 'critical', output: /ECONNREFUSED/ })
  })

  it('stops when its signal aborts', async () => {
    const server = await startTcpServer()
    cleanup.push(server.close)
    const controller = new AbortController()
    controller.abort()
    const result = await probeTcp(tcpCheck(`127.0.0.1:${server.port}`), controller.signal)
    expect(result).toMatchObject({ status: 'critical', output: /check stopped/ })
  })
})
