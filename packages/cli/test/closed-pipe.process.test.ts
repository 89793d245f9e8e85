import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CLI_COMMAND } from '../src/demo/demo-launchers.js'

const [node, bin] = CLI_COMMAND as [string, string]

/**
 * `grapevine --help | head`: the reader is gone before the command writes. Node reports the
 * failed write (EPIPE) as an 'error' event, which crashed the command with a stack trace.
 */
describe('output to a closed pipe', () => {
  it.each(['--help', 'agent --help'])(
    '`grapevine %s` exits 0, without a stack trace, when its reader has gone',
    async (args) => {
      const child = spawn(node, [bin, ...args.split(' ')], { stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout.destroy() // the reader goes away before the first write
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      expect(stderr).not.toContain('EPIPE')
      expect(code).toBe(0)
    },
  )
})
