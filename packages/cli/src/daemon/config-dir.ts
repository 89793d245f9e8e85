import { join } from 'node:path'
import type { Logger } from 'pino'
import { parseServiceFile, type ServiceDefinition } from '../config/service-definitions.js'
import { ConfigError } from '../errors.js'
import type { ApiAgent } from '../http/agent-extensions.js'

export interface ConfigDirInit {
  dir: string
  agent: Pick<ApiAgent, 'register' | 'deregister'>
  listDir: (path: string) => string[]
  readFile: (path: string) => string
  logger: Logger
}

/** What one load did. */
export interface ConfigDirResult {
  registered: string[]
  deregistered: string[]
  /** Definitions that failed, with why; what they had registered before stays. */
  failed: Array<{ file: string; id?: string; message: string }>
}

export interface ConfigDirServices {
  /**
   * Reads every `*.json` of the directory (in name order), registers each service (the same
   * id again updates it in place: unchanged checks keep their state, so nothing flaps) and
   * deregisters the services an earlier load registered that no file declares any more.
   */
  load(): Promise<ConfigDirResult>
}

/** Reads every definition; a file that cannot be read or parsed fails as a whole. */
function readDefinitions(init: ConfigDirInit, result: ConfigDirResult): ServiceDefinition[] {
  let names: string[]
  try {
    names = init.listDir(init.dir).filter((name) => name.endsWith('.json'))
  } catch (err) {
    throw new ConfigError('configDir', init.dir, `cannot list it: ${(err as Error).message}`)
  }
  const definitions: ServiceDefinition[] = []
  const seen = new Map<string, string>()
  for (const name of names.sort()) {
    const file = join(init.dir, name)
    try {
      for (const definition of parseServiceFile(file, init.readFile(file))) {
        const id = definition.registration.id
        const other = seen.get(id)
        if (other !== undefined) {
          result.failed.push({
            file,
            id,
            message: `service id "${id}" is also declared in ${other}`,
          })
          continue
        }
        seen.set(id, file)
        definitions.push(definition)
      }
    } catch (err) {
      result.failed.push({ file, message: (err as Error).message })
    }
  }
  return definitions
}

/**
 * Services declared in `--config-dir`, as Consul's `service {}` blocks are: registered at
 * start and kept in step with the files on every reload (SIGHUP). Only services that came from
 * the directory are ever deregistered by it; those registered over the API are left alone.
 */
export function createConfigDirServices(init: ConfigDirInit): ConfigDirServices {
  /** Ids the directory registered, with the file each came from. */
  const owned = new Map<string, string>()
  return {
    async load() {
      const result: ConfigDirResult = { registered: [], deregistered: [], failed: [] }
      const definitions = readDefinitions(init, result)
      const declared = new Set(definitions.map((d) => d.registration.id))
      for (const { file, registration } of definitions) {
        try {
          await init.agent.register(registration as Parameters<ApiAgent['register']>[0])
          owned.set(registration.id, file)
          result.registered.push(registration.id)
        } catch (err) {
          result.failed.push({ file, id: registration.id, message: (err as Error).message })
        }
      }
      // A file that failed to parse keeps what it registered before: a typo while editing must
      // not take a running service out of the registry.
      const brokenFiles = new Set(
        result.failed.filter((f) => f.id === undefined).map((f) => f.file),
      )
      for (const [id, file] of owned) {
        if (declared.has(id) || brokenFiles.has(file)) continue
        try {
          await init.agent.deregister(id)
        } catch (err) {
          init.logger.warn({ id, err }, 'config-dir service was already gone')
        }
        owned.delete(id)
        result.deregistered.push(id)
      }
      for (const failure of result.failed) {
        init.logger.error(failure, 'config-dir service definition rejected')
      }
      init.logger.info(
        { dir: init.dir, registered: result.registered, deregistered: result.deregistered },
        'config-dir services loaded',
      )
      return result
    },
  }
}
