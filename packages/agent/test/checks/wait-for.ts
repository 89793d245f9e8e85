/**
 * Polls `condition` until it holds, failing with `message` after `deadlineMs`. For tests
 * with real servers and timers, which must wait on a condition, never on a fixed sleep.
 */
export async function waitFor(
  condition: () => boolean,
  message: string,
  deadlineMs = 5000,
): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out after ${deadlineMs} ms: ${message}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
