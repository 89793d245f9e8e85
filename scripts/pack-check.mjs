#!/usr/bin/env node
/**
 * pack-check: the packages as a user gets them from npm. It builds, packs every package with
 * `pnpm pack` (which rewrites `workspace:` ranges to versions), installs the tarballs with
 * plain npm into a fresh project under the system temp dir (outside the workspace, so no
 * pnpm overrides or hoisting help), and there:
 *   - checks the installed tree: exactly one @libp2p/interface, each @grapevine package once
 *     and from its tarball, `npm ls` clean;
 *   - runs the README's JavaScript examples as written with plain `node` (two agents on
 *     127.0.0.1 that see each other's registration);
 *   - type-checks a consumer file and the README's TypeScript examples against the published
 *     `.d.ts` with strict options (exactOptionalPropertyTypes, noPropertyAccessFromIndexSignature,
 *     skipLibCheck off);
 *   - runs the installed `grapevine --help`, and `grapevine agent` up to `/ready`, a client
 *     command against it, and a graceful stop.
 * npm installs from its cache when it can (`--prefer-offline`). The temp project is removed
 * unless a step failed (its path is printed) or PACK_CHECK_KEEP=1.
 */
import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { readmeBlocks } from './readme-blocks.mjs'

const execFileAsync = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const t0 = performance.now()
/** Deadline of each child command; the whole check normally takes well under a minute. */
const COMMAND_TIMEOUT_MS = 120_000
const AGENT_TIMEOUT_MS = 20_000

class PackCheckError extends Error {
  name = 'PackCheckError'
  code = 'ERR_PACK_CHECK'
}

function fail(message) {
  throw new PackCheckError(message)
}

function log(message) {
  console.log(`pack-check +${((performance.now() - t0) / 1000).toFixed(1)}s ${message}`)
}

/**
 * The environment of commands run in the consumer project: without the npm_* variables an
 * outer `npm run` sets, so the nested npm sees only the temp project, as a user's would.
 */
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
)

async function sh(command, args, options = {}) {
  try {
    return await execFileAsync(command, args, {
      maxBuffer: 64 * 1024 * 1024,
      timeout: COMMAND_TIMEOUT_MS,
      env: cleanEnv,
      ...options,
    })
  } catch (err) {
    fail(
      `${command} ${args.join(' ')} failed (${err.code ?? err.signal}):\n${err.stdout ?? ''}${err.stderr ?? ''}`,
    )
  }
}

const node = (args, options) => sh(process.execPath, args, options)

async function workspacePackages() {
  const names = await readdir(join(root, 'packages'))
  const packages = []
  for (const dir of names.sort()) {
    const manifest = JSON.parse(await readFile(join(root, 'packages', dir, 'package.json'), 'utf8'))
    if (manifest.private !== true) packages.push({ dir: join(root, 'packages', dir), manifest })
  }
  return packages
}

/** pnpm 9 (fetched by npx once), whose `pack` rewrites `workspace:` ranges to versions. */
async function findPnpm() {
  const { stdout } = await sh('npx', [
    '--prefer-offline',
    '-y',
    '-p',
    'pnpm@9',
    '-c',
    'command -v pnpm',
  ])
  return stdout.trim()
}

/** Packs one package; checks the tarball's manifest and that it ships dist, README and LICENSE. */
async function pack(pnpm, { dir, manifest }, destination) {
  const { stdout } = await sh(pnpm, ['pack', '--pack-destination', destination], { cwd: dir })
  // pnpm prints the tarball's path last.
  const path = stdout.trim().split('\n').at(-1) ?? ''
  if (!path.endsWith('.tgz')) fail(`pnpm pack of ${manifest.name} printed:\n${stdout}`)
  const tarball = basename(path)
  const { stdout: listing } = await sh('tar', ['tzf', path])
  const files = new Set(listing.split('\n').filter(Boolean))
  for (const required of ['package/package.json', 'package/README.md', 'package/LICENSE']) {
    if (!files.has(required)) fail(`${tarball} lacks ${required.slice('package/'.length)}`)
  }
  if (![...files].some((file) => file.startsWith('package/dist/'))) fail(`${tarball} has no dist/`)
  if ([...files].some((file) => file.startsWith('package/test/'))) fail(`${tarball} ships tests`)
  const { stdout: packed } = await sh('tar', ['xzf', path, '-O', 'package/package.json'])
  if (packed.includes('workspace:')) fail(`${tarball} still has a workspace: range`)
  return { name: manifest.name, path, files: files.size }
}

function installedVersion(name) {
  return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
}

/**
 * The installed tree, from the lockfile npm wrote (its `packages` keys are install paths): one
 * @libp2p/interface, and every @grapevine package once, from its tarball; `npm ls` clean.
 */
async function checkTree(cwd, tarballs) {
  const lock = JSON.parse(await readFile(join(cwd, 'package-lock.json'), 'utf8'))
  const copies = (name) =>
    Object.entries(lock.packages).filter(([path]) => path.endsWith(`node_modules/${name}`))
  const interfaces = copies('@libp2p/interface').map(
    ([path, entry]) => `${entry.version} at ${path}`,
  )
  if (interfaces.length !== 1) {
    fail(`expected one @libp2p/interface, found:\n  ${interfaces.join('\n  ')}`)
  }
  for (const { name } of tarballs) {
    if (TEST_ONLY.has(name)) continue
    const found = copies(name)
    if (found.length !== 1) fail(`${name} is installed ${found.length} times`)
    const resolved = String(found[0][1].resolved)
    if (!resolved.startsWith('file:')) fail(`${name} came from ${resolved}, not from its tarball`)
  }
  await sh('npm', ['ls', '--all'], { cwd })
  return interfaces[0]
}

/**
 * Packed and checked, but not installed in the consumer: it needs vitest (a peer dependency),
 * which npm would fetch into the consumer on every run.
 */
const TEST_ONLY = new Set(['@grapevine/compliance'])

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: ['node'],
    strict: true,
    exactOptionalPropertyTypes: true,
    noPropertyAccessFromIndexSignature: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: false,
    noEmit: true,
  },
  include: ['src/**/*.ts'],
}

/**
 * `grapevine agent` on 127.0.0.1 with OS-chosen ports: resolves with the child and its HTTP
 * URL once it logs `agent started`.
 */
function startDaemon(cwd, cluster) {
  const bin = join(cwd, 'node_modules', '.bin', 'grapevine')
  const args = ['agent', '--cluster', cluster, '--listen', '/ip4/127.0.0.1/tcp/0', '--mdns=false']
  args.push('--http-addr', '127.0.0.1:0', '--dns-addr', '127.0.0.1:0')
  args.push('--data-dir', join(cwd, 'agent-data'))
  const child = spawn(bin, args, { cwd, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  const output = []
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  createInterface({ input: child.stderr }).on('line', (line) => output.push(line))
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new PackCheckError(`grapevine agent did not start:\n${output.join('\n')}`)),
      AGENT_TIMEOUT_MS,
    )
    exited.then(({ code }) =>
      reject(new PackCheckError(`grapevine agent exited with ${code}:\n${output.join('\n')}`)),
    )
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line)
      try {
        const entry = JSON.parse(line)
        if (entry.msg === 'agent started') {
          clearTimeout(timer)
          resolve(String(entry.http))
        }
      } catch {
        // not a JSON log line
      }
    })
  })
  return { child, exited, started, output }
}

async function waitFor(what, check, timeoutMs) {
  const deadline = performance.now() + timeoutMs
  let last
  while (performance.now() < deadline) {
    try {
      if (await check()) return
    } catch (err) {
      last = err
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  fail(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last})` : ''}`)
}

async function checkDaemon(cwd) {
  const bin = join(cwd, 'node_modules', '.bin', 'grapevine')
  const { stdout: help } = await sh(bin, ['--help'], { cwd })
  if (!help.includes('Usage: grapevine')) fail(`grapevine --help printed:\n${help}`)
  const daemon = startDaemon(cwd, `pack-check-${process.pid}`)
  try {
    const http = await daemon.started
    await waitFor('/ready', async () => (await fetch(`${http}/ready`)).ok, AGENT_TIMEOUT_MS)
    const env = { ...cleanEnv, GRAPEVINE_HTTP_ADDR: http.replace('http://', '') }
    const { stdout: members } = await sh(bin, ['members', '--json'], { cwd, env })
    if (JSON.parse(members).length !== 1) fail(`grapevine members printed:\n${members}`)
    daemon.child.kill('SIGTERM')
    const timeout = new Promise((resolve) =>
      setTimeout(() => resolve(undefined), AGENT_TIMEOUT_MS).unref(),
    )
    const exit = await Promise.race([daemon.exited, timeout])
    if (exit === undefined)
      fail(`grapevine agent did not exit after SIGTERM:\n${daemon.output.join('\n')}`)
    if (exit.code !== 0)
      fail(`grapevine agent exited with ${exit.code ?? exit.signal} after SIGTERM`)
  } finally {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null)
      daemon.child.kill('SIGKILL')
  }
}

async function main() {
  await node([require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root })
  await node([join(root, 'scripts', 'bundle-cli.mjs')], { cwd: root })
  log('built')
  const work = await mkdtemp(join(tmpdir(), `grapevine-pack-check-${process.pid}-`))
  let passed = false
  try {
    const tarballDir = join(work, 'tarballs')
    const consumer = join(work, 'consumer')
    await mkdir(tarballDir)
    await mkdir(join(consumer, 'src'), { recursive: true })
    const packages = await workspacePackages()
    if (packages.length === 0) fail('no publishable package under packages/')
    const pnpm = await findPnpm()
    const tarballs = await Promise.all(packages.map((pkg) => pack(pnpm, pkg, tarballDir)))
    log(`packed ${tarballs.map((t) => `${t.name} (${t.files} files)`).join(', ')}`)

    const manifest = {
      name: 'grapevine-pack-check-consumer',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(
        tarballs.filter((t) => !TEST_ONLY.has(t.name)).map((t) => [t.name, `file:${t.path}`]),
      ),
      devDependencies: {
        typescript: installedVersion('typescript'),
        '@types/node': installedVersion('@types/node'),
      },
    }
    await writeFile(join(consumer, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    await sh(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      {
        cwd: consumer,
      },
    )
    log('installed with npm')
    const libp2pInterface = await checkTree(consumer, tarballs)
    log(
      `one @libp2p/interface (${libp2pInterface}); each @grapevine package once, from its tarball`,
    )

    const jsExamples = readmeBlocks('js', join(root, 'README.md'))
    if (jsExamples.length === 0) fail('README.md has no ```js example')
    for (const [i, code] of jsExamples.entries()) {
      const file = `readme-example-${i + 1}.mjs`
      await writeFile(join(consumer, file), code)
      const { stdout } = await node([file], { cwd: consumer, timeout: 60_000 })
      log(`node ${file}: ${stdout.trim().split('\n').join(' | ')}`)
    }

    await copyFile(
      join(root, 'scripts', 'pack-check', 'consumer.ts'),
      join(consumer, 'src', 'consumer.ts'),
    )
    const tsExamples = readmeBlocks('ts', join(root, 'README.md'))
    for (const [i, code] of tsExamples.entries()) {
      await writeFile(join(consumer, 'src', `readme-example-${i + 1}.ts`), `${code}\nexport {}\n`)
    }
    await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG, null, 2))
    await node([join(consumer, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], {
      cwd: consumer,
    })
    log(`strict consumer typecheck: consumer.ts and ${tsExamples.length} README examples`)

    await checkDaemon(consumer)
    log('installed grapevine: --help, agent up to /ready, members, graceful stop')
    passed = true
  } finally {
    if (passed && process.env.PACK_CHECK_KEEP !== '1')
      await rm(work, { recursive: true, force: true })
    else console.log(`pack-check: the temp project is kept at ${work}`)
  }
}

main().then(
  () => log('passed'),
  (err) => {
    console.error(err instanceof PackCheckError ? `pack-check failed: ${err.message}` : err)
    process.exitCode = 1
  },
)
