#!/usr/bin/env node
/**
 * Bundles the `grapevine` command (packages/cli/dist/main.js, compiled by `tsc -b`) with its
 * dependencies into packages/cli/dist/bundle/, which the bin runs. Why: Node 20 spends most of
 * a cold start resolving and loading modules one by one (the daemon loads about 600 ESM files
 * of libp2p alone, plus fastify's CommonJS tree), and keeps a record of each; one minified
 * file per entry halves the daemon's start-up and takes about 20 MiB off its RSS. Code
 * splitting keeps dynamic imports lazy: a client command never loads the daemon's chunk
 * (fastify, pino, libp2p). Library users import `dist/` as compiled by tsc, unbundled.
 */
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'cli')
const outdir = join(cli, 'dist', 'bundle')
rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: [join(cli, 'dist', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Error classes and stack traces keep their names.
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  // msgpackr loads its optional native extractor with a guarded require; without it msgpackr
  // uses its JavaScript decoder, so the bundle leaves it to the install.
  external: ['msgpackr-extract'],
  // CommonJS dependencies (fastify, pino) call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __grapevineRequire } from 'node:module'; const require = __grapevineRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'linked',
})
