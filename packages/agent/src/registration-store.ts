import type { DataDir } from './data-dir.js'

/**
 * This node's own registrations, kept so that a restart with the same data dir announces them
 * again. A change resolves once a write that includes it is on disk, and only then may the
 * caller apply, publish or acknowledge it ("saved before published"). If the write fails, the
 * change is undone here and the promise rejects, so an error means nothing happened.
 *
 * Writes are coalesced: at most one in flight and one queued behind it, which picks up every
 * change made before it starts, so a burst of registrations costs two file writes.
 */
export interface RegistrationStore<T> {
  get(id: string): T | undefined
  has(id: string): boolean
  set(id: string, registration: T): Promise<void>
  delete(id: string): Promise<void>
}

export function createRegistrationStore<T>(
  dataDir: DataDir | undefined,
  initial: Iterable<[string, T]> = [],
): RegistrationStore<T> {
  const registrations = new Map<string, T>(initial)
  let writing: Promise<void> | undefined
  let queued: Promise<void> | undefined

  function flush(): Promise<void> {
    if (dataDir === undefined) return Promise.resolve()
    if (queued !== undefined) return queued
    const previous = (writing ?? Promise.resolve()).catch(() => undefined)
    queued = previous.then(async () => {
      queued = undefined
      writing = dataDir.writeRegistrations([...registrations.values()])
      try {
        await writing
      } finally {
        writing = undefined
      }
    })
    return queued
  }

  /** Applies a change now; undoes it if the write that carries it fails. */
  async function change(id: string, next: T | undefined): Promise<void> {
    const had = registrations.has(id)
    const before = registrations.get(id)
    if (next === undefined) registrations.delete(id)
    else registrations.set(id, next)
    try {
      await flush()
    } catch (err) {
      // Only if nothing changed the entry since: a later change is its caller's to undo.
      if (registrations.get(id) === next) {
        if (had) registrations.set(id, before as T)
        else registrations.delete(id)
      }
      throw err
    }
  }

  return {
    get: (id) => registrations.get(id),
    has: (id) => registrations.has(id),
    set: (id, registration) => change(id, registration),
    delete: (id) => change(id, undefined),
  }
}
