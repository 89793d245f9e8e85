/**
 * Global setup of the cluster project: its tests start `grapevine` and agent processes, which
 * run the packages' compiled `dist` (and the bin its bundle) as a user's install does, so
 * both are brought up to date first. `tsc -b` is incremental and the bundle takes a few
 * seconds.
 */
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export default function buildPackages(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  })
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], {
    cwd: root,
    stdio: 'inherit',
  })
}
