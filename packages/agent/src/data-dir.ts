import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The agent's data directory: who this node is (its private key), which generation this start
 * is, and the instances it registered. Files are replaced atomically (write, fsync, rename),
 * so a crash mid-write leaves the previous version.
 */
export interface DataDir {
  readonly path: string
  /** The stored identity, or undefined on first start. */
  readIdentity(): Promise<Uint8Array | undefined>
  writeIdentity(bytes: Uint8Array): Promise<void>
  /** Reads the last generation, stores it plus one and returns that: one generation per start. */
  nextGeneration(): Promise<number>
  readRegistrations(): Promise<unknown[]>
  writeRegistrations(registrations: readonly unknown[]): Promise<void>
}

const IDENTITY_FILE = 'identity.key'
const GENERATION_FILE = 'generation'
const REGISTRATIONS_FILE = 'registrations.json'

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`
  const handle = await open(temporary, 'w', 0o600)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, path)
}

export async function openDataDir(path: string): Promise<DataDir> {
  await mkdir(path, { recursive: true, mode: 0o700 })
  return {
    path,
    async readIdentity() {
      const bytes = await readOptional(join(path, IDENTITY_FILE))
      return bytes === undefined ? undefined : new Uint8Array(bytes)
    },
    writeIdentity: (bytes) => writeAtomically(join(path, IDENTITY_FILE), bytes),
    async nextGeneration() {
      const text = (await readOptional(join(path, GENERATION_FILE)))?.toString('utf8').trim()
      const previous = text === undefined ? 0 : Number(text)
      if (!Number.isSafeInteger(previous) || previous < 0) {
        throw new Error(`${join(path, GENERATION_FILE)} is corrupt ("${text}"); delete it to reset`)
      }
      const next = previous + 1
      await writeAtomically(join(path, GENERATION_FILE), `${next}\n`)
      return next
    },
    async readRegistrations() {
      const text = (await readOptional(join(path, REGISTRATIONS_FILE)))?.toString('utf8')
      if (text === undefined) return []
      const parsed: unknown = JSON.parse(text)
      return Array.isArray(parsed) ? parsed : []
    },
    writeRegistrations: (registrations) =>
      writeAtomically(
        join(path, REGISTRATIONS_FILE),
        `${JSON.stringify(registrations, null, 2)}\n`,
      ),
  }
}
