/**
 * Waiting helpers for compliance tests: every wait has a deadline and fails with a message
 * that names what it waited for; nothing sleeps for a fixed time to make a test pass.
 */

/** Resolves or rejects like `promise`, or rejects once `ms` pass, naming `what`. */
export async function within<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * True when `promise` has not settled after every queued microtask and pending I/O callback
 * ran. This checks that something is *not* delivered yet; it never waits for a result.
 */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  await new Promise<void>((resolve) => setImmediate(resolve))
  return !settled
}

let counter = 0

/** A service name no other test (or other agent in a shared cluster) uses. */
export function uniqueName(prefix: string): string {
  counter += 1
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`
}
