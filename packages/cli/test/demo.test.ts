import { waitFor } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import { createAgentClient } from '../src/client/agent-client.js'
import { type DemoReport, formatDemoReport, summarize } from '../src/demo/demo-report.js'
import { runDemo } from '../src/demo/run-demo.js'
import { DemoInterruptedError } from '../src/demo/wait-until.js'
import { runCli } from '../src/program.js'
import { createFakeLauncher } from './support/fake-cluster.js'
import { createMemoryIo } from './support/memory-io.js'

describe('runDemo', () => {
  it('forms the cluster, converges, detects the killed node, and cleans up', async () => {
    const launcher = createFakeLauncher()
    const lines: string[] = []
    const report = await runDemo({
      nodes: 3,
      launchers: [
        createFakeLauncher({ label: 'mDNS', description: 'mdns', available: 'no namespaces' }),
        launcher,
      ],
      say: (line) => lines.push(line),
      signal: new AbortController().signal,
      clientFor: (node) => createAgentClient({ baseUrl: node.httpUrl }),
    })
    expect(lines[0]).toBe('mDNS unavailable: no namespaces; using fake')
    expect(lines[1]).toBe('Cluster: fake: in-process APIs over one local agent')
    expect(lines).toContain('Converged: every agent sees all 4 instances')
    expect(lines).toContain('Killing node-3 with SIGKILL (no goodbye)…')
    expect(lines.some((l) => /^ {2}node-2 sees web-1 after \d+ms$/.test(l))).toBe(true)
    expect(lines.some((l) => /^ {2}node-1 dropped web-3 \(deregistered\) after/.test(l))).toBe(true)
    expect(lines.some((l) => /^ {2}node-1 marks node-3 dead after/.test(l))).toBe(true)

    expect(report.strategy).toBe('fake')
    expect(report.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3'])
    expect(report.convergence.map((c) => c.instanceId)).toEqual([
      'web-1',
      'web-2',
      'web-3',
      'api-1',
    ])
    for (const c of report.convergence) {
      expect(Object.keys(c.perNodeMs)).toEqual(['node-1', 'node-2', 'node-3'])
    }
    expect(report.failure).toMatchObject({ node: 'node-3', peerId: 'peer-3', instances: ['web-3'] })
    expect(Object.keys(report.failure.hiddenMs).sort()).toEqual(['node-1', 'node-2'])
    expect(Object.keys(report.failure.deadMs).sort()).toEqual(['node-1', 'node-2'])
    expect(launcher.cleanups).toBe(1)
    expect(launcher.running()).toEqual([])
  })

  it('cleans up and reports the interruption on Ctrl-C', async () => {
    const launcher = createFakeLauncher()
    const controller = new AbortController()
    const run = runDemo({
      nodes: 3,
      launchers: [launcher],
      say: (line) => {
        if (line === 'Registering example services…') controller.abort()
      },
      signal: controller.signal,
      clientFor: (node) => createAgentClient({ baseUrl: node.httpUrl }),
    })
    await expect(run).rejects.toBeInstanceOf(DemoInterruptedError)
    expect(launcher.cleanups).toBe(1)
    expect(launcher.running()).toEqual([])
  })

  it('cleans up when a step fails', async () => {
    const launcher = createFakeLauncher()
    const run = runDemo({
      nodes: 3,
      launchers: [launcher],
      say: () => {},
      signal: new AbortController().signal,
      clientFor: (node) => ({
        ...createAgentClient({ baseUrl: node.httpUrl }),
        register: async () => {
          throw new Error('registry on fire')
        },
      }),
    })
    await expect(run).rejects.toThrow('registry on fire')
    expect(launcher.cleanups).toBe(1)
  })
})

const report: DemoReport = {
  strategy: 'loopback',
  nodes: [
    { name: 'node-1', peerId: 'p1', httpUrl: 'http://127.0.0.1:1' },
    { name: 'node-2', peerId: 'p2', httpUrl: 'http://127.0.0.1:2' },
    { name: 'node-3', peerId: 'p3', httpUrl: 'http://127.0.0.1:3' },
  ],
  clusterFormedMs: 1234,
  convergence: [
    {
      instanceId: 'web-1',
      service: 'web',
      registeredOn: 'node-1',
      perNodeMs: { 'node-1': 2, 'node-2': 14, 'node-3': 20 },
    },
    {
      instanceId: 'web-2',
      service: 'web',
      registeredOn: 'node-2',
      perNodeMs: { 'node-1': 30, 'node-2': 3, 'node-3': 25 },
    },
    {
      instanceId: 'api-1',
      service: 'api',
      registeredOn: 'node-1',
      perNodeMs: { 'node-1': 1, 'node-2': 9, 'node-3': 10 },
    },
  ],
  failure: {
    node: 'node-3',
    peerId: 'p3',
    instances: ['web-3'],
    hiddenMs: { 'node-1': 1010, 'node-2': 1100 },
    deadMs: { 'node-1': 1020, 'node-2': 1150 },
  },
}

describe('demo report', () => {
  it('summarizes convergence and detection', () => {
    expect(summarize(report)).toEqual({
      convergenceMedianMs: 20,
      convergenceMaxMs: 30,
      hiddenMaxMs: 1100,
      deadMaxMs: 1150,
    })
  })

  it('prints tables and a summary', () => {
    expect(formatDemoReport(report)).toBe(
      [
        'Convergence (register → visible in each node’s watch stream):',
        'INSTANCE  REGISTERED ON  NODE-1  NODE-2  NODE-3',
        'web-1     node-1         2ms     14ms    20ms',
        'web-2     node-2         30ms    3ms     25ms',
        'api-1     node-1         1ms     9ms     10ms',
        '',
        'Failure detection after SIGKILL of node-3:',
        'SURVIVOR  INSTANCES HIDDEN  MEMBER DEAD',
        'node-1    1s                1s',
        'node-2    1.1s              1.1s',
        '',
        'Summary (3 agents, loopback):',
        '  started and joined in       1.2s',
        '  convergence                 median 20ms, max 30ms',
        '  failure detection           instances hidden after 1.1s, member dead after 1.1s',
      ].join('\n'),
    )
  })
})

describe('grapevine demo', () => {
  it('prints live progress and the measurements', async () => {
    const io = createMemoryIo()
    const code = await runCli(['demo'], io, { demoLaunchers: () => [createFakeLauncher()] })
    expect(code).toBe(0)
    expect(io.out()).toContain('Starting 3 agents…')
    expect(io.out()).toContain('Cleaning up: stopping agents and removing their data…')
    expect(io.out()).toMatch(/Summary \(3 agents, fake\):\n {2}started and joined in/)
  })

  it('prints only the report with --json', async () => {
    const io = createMemoryIo()
    const code = await runCli(['demo', '--json', '--nodes', '4'], io, {
      demoLaunchers: () => [createFakeLauncher()],
    })
    expect(code).toBe(0)
    const parsed = JSON.parse(io.out()) as DemoReport
    expect(parsed.nodes).toHaveLength(4)
    expect(parsed.failure.node).toBe('node-4')
  })

  it('rejects a cluster size outside 3 to 5', async () => {
    const io = createMemoryIo()
    expect(await runCli(['demo', '--nodes', '9'], io)).toBe(1)
    expect(io.err()).toBe('error: invalid nodes: must be 3, 4 or 5, got "9"\n')
  })

  it('exits 130 after cleaning up on Ctrl-C', async () => {
    const io = createMemoryIo()
    let release!: () => void
    const startDelay = new Promise<void>((resolve) => {
      release = resolve
    })
    const launcher = createFakeLauncher({ startDelay })
    const run = runCli(['demo'], io, { demoLaunchers: () => [launcher] })
    await waitFor('the demo to start its agents', () => io.out().includes('Starting 3 agents'))
    io.interrupt()
    release()
    expect(await run).toBe(130)
    expect(io.err()).toContain('interrupted; every agent the demo started is stopped')
    expect(launcher.cleanups).toBe(1)
  })
})
