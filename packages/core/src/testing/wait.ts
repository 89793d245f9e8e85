/**
 * Waiting helpers for tests (the compliance suite and every package's own): every wait has a
 * deadline and fails with a message that names what it waited for; nothing sleeps for a fixed
 * time to make a test pass.
 */

/** `T` without its falsy values: what `waitFor` can resolve to. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>

/**
 * Polls `check` every `intervalMs` until it returns (or resolves to) a truthy value, and
 * resolves to that value. A check that throws or rejects counts as not yet. Once `timeoutMs`
 * pass it fails, naming `what` and the last value or error.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Truthy<T>> {
  const deadline = performance.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as Truthy<T>
      last = value
    } catch (err) {
      last = err
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

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
