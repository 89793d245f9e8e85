import {
  CONFIG_FILE_ENV,
  CONFIG_FILE_FLAG,
  CONFIG_OPTIONS,
  type ConfigOption,
  envName,
  flagName,
} from './config-options.js'

function typeText(option: ConfigOption): string {
  const type = option.type
  if (typeof type === 'object' && 'someOf' in type) return `list of ${type.someOf.join(', ')}`
  if (typeof type === 'object') return type.choices.join(' \\| ')
  switch (type) {
    case 'multiaddrs':
      return 'list of addresses'
    case 'duration':
      return 'duration (`10s`, `500ms`, `1m`; a bare number is ms)'
    case 'address':
      return 'host:port'
    case 'optional-address':
      return 'host:port \\| off'
    case 'domain':
      return 'DNS name'
    case 'secret':
      return 'string'
    default:
      return type
  }
}

/**
 * The settings of `grapevine agent` as one markdown table (CONFIG.md, pasted into the
 * README). Generated from `CONFIG_OPTIONS`, so the docs cannot drift from the parser.
 */
export function renderConfigTable(): string {
  const rows = [
    '| Setting (file key) | Flag | Environment | Type | Default | Meaning |',
    '|---|---|---|---|---|---|',
    `| — | \`--${CONFIG_FILE_FLAG} <file>\` | \`${CONFIG_FILE_ENV}\` | path | (none) | JSON file of the settings below, keyed by the first column. |`,
  ]
  for (const option of CONFIG_OPTIONS) {
    rows.push(
      `| \`${option.key}\` | \`--${flagName(option.key)} ${option.placeholder}\` | \`${envName(option.key)}\` | ${typeText(option)} | ${option.defaultText} | ${option.description} |`,
    )
  }
  return rows.join('\n')
}
