import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createProgram } from '../src/program.js'
import { createMemoryIo } from './support/memory-io.js'

/**
 * Issue 12: "CLI help and packages/cli/README.md cover the new flags and commands". Checked
 * against the program itself, so a command or flag added later without docs fails here: every
 * command has a help page with examples and a row in the README, and every flag of it is named
 * in the README (the agent's settings in CONFIG.md, which config.test.ts keeps generated).
 */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const configDoc = readFileSync(new URL('../CONFIG.md', import.meta.url), 'utf8')
const program = createProgram(createMemoryIo())
const commands = program.commands.filter((command) => command.name() !== 'help')

describe('the CLI documentation', () => {
  it.each(commands.map((command) => [command.name(), command] as const))(
    '`grapevine %s` has a README row, a help page with examples, and every flag documented',
    (name, command) => {
      expect(readme).toContain(`\`grapevine ${name}`)
      let help = ''
      command.configureOutput({ writeOut: (text) => (help += text) })
      command.outputHelp()
      expect(help).toContain('Examples:')
      for (const option of command.options) {
        const flag = option.long
        if (flag === undefined || flag === '--help') continue
        const documented = readme.includes(flag) || (name === 'agent' && configDoc.includes(flag))
        expect(documented, `${flag} of grapevine ${name}`).toBe(true)
        expect(help).toContain(flag)
      }
    },
  )
})
