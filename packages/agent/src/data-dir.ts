import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { DataDirCorruptError, DataDirWriteError } from './data-dir-errors.js'

/**
 * The agent's data directory: who this node is (its private key), which generation this start
 * is, and the instances it registered. Files are replaced atomically (write a temporary file,
 * fsync it, rename it over the old one, fsync the directory), so a crash in the middle of a
 * write leaves the previous version or the new one, never a mix. A file that does not read as
 * what it should hold is a `DataDirCorruptError` at start.
 */
export interface DataDir {
  readonly path: string
  /** The stored identity, or undefined on first start. */
  readIdentity(): Promise<Uint8Array | undefined>
  writeIdentity(bytes: Uint8Array): Promise<void>
  /**
   * Picks this start's generation, stores it and returns it: above the stored one and at least
   * the wall clock in ms, so that a node started from an older copy of its data dir (a backup
   * restore) still starts above every generation it ever announced.
   */
  nextGeneration(): Promise<number>
  readRegistrations(): Promise<unknown[]>
  /** Throws `DataDirWriteError` when the file could not be saved. */
  writeRegistrations(registrations: readonly unknown[]): Promise<void>
}

export interface DataDirInit {
  /** Wall clock in ms, for generations. @default Date.now */
  wallClock?: () => number
}

export const IDENTITY_FILE = 'identity.key'
export const GENERATION_FILE = 'generation'
export const REGISTRATIONS_FILE = 'registrations.json'

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Makes a rename durable: the directory entry is data too. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

let temporarySerial = 0

async function writeAtomically(dir: string, name: string, data: string | Uint8Array) {
  const path = join(dir, name)
  // Unique per write, so that two writers (two agents misconfigured onto one dir) never
  // interleave bytes in one temporary file.
  const temporary = `${path}.${process.pid}.${temporarySerial++}.tmp`
  try {
    const handle = await open(temporary, 'w', 0o600)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
    await syncDirectory(dir)
  } catch (err) {
    await unlink(temporary).catch(() => undefined)
    throw new DataDirWriteError(path, err)
  }
}

export async function openDataDir(path: string, init: DataDirInit = {}): Promise<DataDir> {
  const wallClock = init.wallClock ?? Date.now
  await mkdir(path, { recursive: true, mode: 0o700 })
  return {
    path,
    async readIdentity() {
      const bytes = await readOptional(join(path, IDENTITY_FILE))
      return bytes === undefined ? undefined : new Uint8Array(bytes)
    },
    writeIdentity: (bytes) => writeAtomically(path, IDENTITY_FILE, bytes),
    async nextGeneration() {
      const file = join(path, GENERATION_FILE)
      const text = (await readOptional(file))?.toString('utf8').trim()
      const previous = text === undefined ? 0 : Number(text)
      if (text === '' || !Number.isSafeInteger(previous) || previous < 0) {
        throw new DataDirCorruptError(file, `expected a whole number, found "${text}"`)
      }
      // The stored value alone is not enough: a restored copy holds an older one, and peers
      // drop a generation they have seen superseded. The wall clock is what only grows.
      const next = Math.max(previous + 1, Math.floor(wallClock()))
      await writeAtomically(path, GENERATION_FILE, `${next}\n`)
      return next
    },
    async readRegistrations() {
      const file = join(path, REGISTRATIONS_FILE)
      const text = (await readOptional(file))?.toString('utf8')
      if (text === undefined) return []
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (err) {
        throw new DataDirCorruptError(file, `not JSON (${(err as Error).message})`)
      }
      if (!Array.isArray(parsed)) throw new DataDirCorruptError(file, 'expected a JSON array')
      return parsed
    },
    writeRegistrations: (registrations) =>
      writeAtomically(path, REGISTRATIONS_FILE, `${JSON.stringify(registrations, null, 2)}\n`),
  }
}
