import { existsSync } from 'node:fs'
import { waitFor } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import { createAgentClient } from '../src/client/agent-client.js'
import { CLI_COMMAND } from '../src/demo/demo-launchers.js'
import { createLoopbackLauncher } from '../src/demo/loopback-launcher.js'

describe('loopback launcher (real agent processes)', () => {
  it('starts agents that join by bootstrap, then stops them and removes their data', async () => {
    const launcher = createLoopbackLauncher({
      command: CLI_COMMAND,
      cluster: `launcher-test-${process.pid}`,
    })
    expect(await launcher.available()).toBe(true)
    const nodes = await launcher.start(3, new AbortController().signal)
    try {
      expect(nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3'])
      await waitFor(
        'every node to see 3 alive members',
        async () => {
          const views = await Promise.all(
            nodes.map((n) => createAgentClient({ baseUrl: n.httpUrl }).members()),
          )
          return views.every((members) => members.filter((m) => m.state === 'alive').length === 3)
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      )
    } finally {
      await launcher.cleanup()
    }
    const dataDirs = nodes.map((n) => {
      const started = n
        .logTail(200)
        .split('\n')
        .find((line) => line.includes('"agent started"'))
      return (JSON.parse(started!) as { dataDir: string }).dataDir
    })
    for (const node of nodes) expect(await node.exited).not.toBeUndefined()
    for (const dir of dataDirs) expect(existsSync(dir)).toBe(false)
    // Cleanup is idempotent.
    await launcher.cleanup()
  })
})
