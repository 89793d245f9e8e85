import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One file the dashboard serves, held in memory (all of them are a few tens of KiB). */
export interface Asset {
  readonly body: Buffer
  readonly contentType: string
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** The page's own files, shipped in the package's `ui/` folder. */
const UI_FILES = ['index.html', 'app.js', 'render.js', 'style.css', 'favicon.svg'] as const

function typeOf(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream'
}

/**
 * The package folder of an installed dependency, found the way Node finds it from `from`
 * (so pnpm's nested layout works), by its package.json, which every package exports or has.
 */
function packageDir(name: string, from: string): string {
  return dirname(createRequire(from).resolve(`${name}/package.json`))
}

/**
 * Loads every dashboard asset, keyed by its path under `/ui/`. The page's SSE client is the
 * `eventsource` package (the one `grapevine watch` uses) and its parser, served as ES modules
 * from the installed packages, so nothing comes from a CDN and no bundler is needed.
 */
export function loadDashboardAssets(): ReadonlyMap<string, Asset> {
  const uiDir = fileURLToPath(new URL('../../ui/', import.meta.url))
  const assets = new Map<string, Asset>()
  for (const name of UI_FILES) {
    assets.set(name, { body: readFileSync(join(uiDir, name)), contentType: typeOf(name) })
  }
  const eventsource = packageDir('eventsource', import.meta.url)
  const parser = packageDir('eventsource-parser', join(eventsource, 'package.json'))
  const vendor: Array<[string, string]> = [
    ['vendor/eventsource.js', join(eventsource, 'dist', 'index.js')],
    ['vendor/eventsource-parser.js', join(parser, 'dist', 'index.js')],
  ]
  for (const [name, path] of vendor) {
    // The source-map comments point at files not served; drop them so browsers do not ask.
    const text = readFileSync(path, 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '\n')
    assets.set(name, { body: Buffer.from(text), contentType: typeOf(name) })
  }
  return assets
}
