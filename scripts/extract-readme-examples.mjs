#!/usr/bin/env node
// README examples that compile: every ```ts block of README.md becomes a module under
// test/readme-examples/ (git-ignored) that `npm run typecheck` checks with the rest of the code.
// A block is a module of its own, so each must import what it uses, as a reader would.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { readmeBlocks } from './readme-blocks.mjs'

const outDir = 'test/readme-examples'
rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
const blocks = readmeBlocks('ts')
blocks.forEach((code, i) => {
  // `export {}` makes each block a module even when it has no import, so top-level await works.
  writeFileSync(`${outDir}/example-${i + 1}.ts`, `${code}\nexport {}\n`)
})
console.log(`README: ${blocks.length} TypeScript examples extracted for type checking`)
