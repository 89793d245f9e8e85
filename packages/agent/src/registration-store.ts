import type { DataDir } from './data-dir.js'

/**
 * This node's own registrations, kept so that a restart with the same data dir announces them
 * again. Writes are coalesced: a burst of registrations costs one file write, and each caller's
 * `flush()` resolves once a write that includes its change is on disk.
 */
export interface RegistrationStore<T> {
  set(id: string, registration: T): Promise<void>
  delete(id: string): Promise<void>
}

export function createRegistrationStore<T>(dataDir: DataDir | undefined): RegistrationStore<T> {
  const registrations = new Map<string, T>()
  let writing: Promise<void> | undefined
  let queued: Promise<void> | undefined

  // At most one write in flight and one queued behind it; the queued one picks up every change
  // made before it starts.
  function flush(): Promise<void> {
    if (dataDir === undefined) return Promise.resolve()
    if (queued !== undefined) return queued
    const previous = writing ?? Promise.resolve()
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

  return {
    set(id, registration) {
      registrations.set(id, registration)
      return flush()
    },
    delete(id) {
      registrations.delete(id)
      return flush()
    },
  }
}
