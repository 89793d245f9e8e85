#!/usr/bin/env node
// Lint rule the type checker cannot make: packages depend one way (cli → agent → gossip →
// core, balancer → core), and every libp2p import stays inside packages/gossip so that a move
// to the next libp2p line touches one package.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const allowed = {
  core: [],
  compliance: ['core'],
  gossip: ['core'],
  agent: ['core', 'gossip'],
  balancer: ['core'],
  cli: ['core', 'agent', 'gossip', 'balancer'],
}
const libp2pPattern = /from '(@libp2p\/|libp2p|@chainsafe\/libp2p|@multiformats\/multiaddr)/

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) yield* sourceFiles(path)
    else if (path.endsWith('.ts')) yield path
  }
}

const problems = []
for (const pkg of readdirSync('packages')) {
  const src = join('packages', pkg, 'src')
  if (!allowed[pkg]) {
    problems.push(`packages/${pkg}: unknown package, add it to scripts/check-deps.mjs`)
    continue
  }
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8')
    for (const [, dep] of text.matchAll(/from '@grapevine\/([a-z]+)/g)) {
      if (!allowed[pkg].includes(dep))
        problems.push(`${file}: ${pkg} must not import @grapevine/${dep}`)
    }
    if (pkg !== 'gossip' && libp2pPattern.test(text)) {
      problems.push(`${file}: libp2p imports belong in packages/gossip`)
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log('dependency direction ok')
