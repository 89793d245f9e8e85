import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnAgent, stopAgent } from '../src/demo/agent-process.js'
import type { DemoNode } from '../src/demo/cluster-launcher.js'
import { CLI_COMMAND } from '../src/demo/demo-launchers.js'

const exec = promisify(execFile)
const [node, bin] = CLI_COMMAND as [string, string]

/** Runs the real `grapevine` binary; resolves with its output and exit code. */
async function grapevine(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(node, [bin, ...args], { env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

let dir: string
let agent: DemoNode

const AGENT_ARGS = [
  '--listen',
  '/ip4/127.0.0.1/tcp/0',
  '--mdns=false',
  '--http-addr',
  '127.0.0.1:0',
  '--dns-addr',
  '127.0.0.1:0',
]

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grapevine-cli-test-'))
  agent = await spawnAgent({
    name: 'agent',
    command: CLI_COMMAND,
    args: [...AGENT_ARGS, '--data-dir', join(dir, 'data'), '--cluster', 'cli-test'],
    startTimeoutMs: 30_000,
    signal: new AbortController().signal,
  })
})
afterAll(async () => {
  if (agent !== undefined) await stopAgent(agent, 5000)
  await rm(dir, { recursive: true, force: true })
})

describe('grapevine agent (a real process)', () => {
  it('logs JSON with its peer id, addresses and HTTP URL, and serves /health', async () => {
    expect(agent.peerId).not.toBe('')
    expect(agent.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${agent.httpUrl}/health`)
    expect(await res.json()).toEqual({ status: 'ok' })
    const started = agent
      .logTail(50)
      .split('\n')
      .find((line) => line.includes('agent started'))
    expect(JSON.parse(started!)).toMatchObject({ level: 'info', cluster: 'cli-test', mdns: false })
  })

  it('is driven by the client commands of the real binary', async () => {
    const env = { GRAPEVINE_HTTP_ADDR: agent.httpUrl.replace('http://', '') }
    const registered = await grapevine(
      ['register', '--name', 'web', '--id', 'web-1', '--endpoint', 'http://127.0.0.1:8080'],
      env,
    )
    expect(registered).toMatchObject({ code: 0, stdout: 'Registered web-1 (web)\n' })
    const listed = await grapevine(['service', 'web', '--json'], env)
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id: 'web-1', node: agent.peerId }])
    const bad = await grapevine(['register', '--name', 'bad name'], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('invalid name')
    const gone = await grapevine(['deregister', 'web-1'], env)
    expect(gone.stdout).toBe('Deregistered web-1\n')
  })

  it('runs TTL checks reported with `grapevine ttl`', async () => {
    const env = { GRAPEVINE_HTTP_ADDR: agent.httpUrl.replace('http://', '') }
    await grapevine(['register', '--name', 'worker', '--id', 'worker-1', '--ttl-check', '30s'], env)
    const before = await grapevine(['instances', '--json'], env)
    expect(JSON.parse(before.stdout)).toMatchObject([
      { id: 'worker-1', status: 'critical', checks: [{ id: 'ttl-0', status: 'critical' }] },
    ])
    const reported = await grapevine(['ttl', 'worker-1', 'ttl-0', 'pass', '--note', 'ok'], env)
    expect(reported.stdout).toBe('Reported pass for check ttl-0 of worker-1\n')
    const after = await grapevine(['instances'], env)
    expect(after.stdout).toContain('worker-1  worker   passing  ttl-0:passing')
    expect(after.stdout).toContain('worker-1/ttl-0: ok')
    const unknown = await grapevine(['ttl', 'worker-1', 'nope', 'pass'], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('has no check "nope"')
  })

  it('reads a config file and a token from the environment, and leaves on SIGTERM', async () => {
    await writeFile(join(dir, 'grapevine.json'), JSON.stringify({ cluster: 'from-file' }))
    const guarded = await spawnAgent({
      name: 'guarded',
      command: CLI_COMMAND,
      args: [...AGENT_ARGS, '--config', join(dir, 'grapevine.json')],
      env: { GRAPEVINE_TOKEN: 's3cret' },
      startTimeoutMs: 30_000,
      signal: new AbortController().signal,
    })
    try {
      expect(guarded.logTail(20)).toContain('"cluster":"from-file"')
      expect((await fetch(`${guarded.httpUrl}/v1/services`)).status).toBe(401)
      expect((await fetch(`${guarded.httpUrl}/health`)).status).toBe(200)
      const authorized = await fetch(`${guarded.httpUrl}/v1/services`, {
        headers: { authorization: 'Bearer s3cret' },
      })
      expect(authorized.status).toBe(200)
      const env = { GRAPEVINE_HTTP_ADDR: guarded.httpUrl.replace('http://', '') }
      expect((await grapevine(['members'], env)).stderr).toContain('missing or wrong bearer token')
      expect((await grapevine(['members'], { ...env, GRAPEVINE_TOKEN: 's3cret' })).code).toBe(0)
    } finally {
      guarded.kill('SIGTERM')
    }
    expect(await guarded.exited).toBe(0)
    expect(guarded.logTail(5)).toContain('"msg":"leaving the cluster"')
    expect(guarded.logTail(5)).toContain('"msg":"agent stopped"')
  })

  it('fails with a clear message when the HTTP address is taken', async () => {
    const taken = agent.httpUrl.replace('http://', '')
    const result = await grapevine(['agent', ...AGENT_ARGS.slice(0, 3), '--http-addr', taken])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`cannot serve the HTTP API on ${taken}: the address is in use`)
  })
})
