import { GrapevineError } from '@grapevine/core'

/** Thrown when a demo step does not happen within its deadline. */
export class DemoTimeoutError extends GrapevineError {
  static readonly code = 'ERR_DEMO_TIMEOUT'
  constructor(what: string, timeoutMs: number, last: unknown) {
    super(
      DemoTimeoutError.code,
      `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last: ${String(last)})`}`,
    )
  }
}

/** Thrown when the user interrupts the demo (Ctrl-C). */
export class DemoInterruptedError extends GrapevineError {
  static readonly code = 'ERR_DEMO_INTERRUPTED'
  /** The shell's code for "ended by SIGINT". */
  readonly exitCode = 130
  constructor() {
    super(
      DemoInterruptedError.code,
      'interrupted; every agent the demo started is stopped and its data removed',
    )
  }
}

/** Thrown when no launcher can start a demo cluster here; says why for each. */
export class NoLauncherError extends GrapevineError {
  static readonly code = 'ERR_DEMO_NO_LAUNCHER'
  constructor(reasons: readonly string[]) {
    super(
      NoLauncherError.code,
      `no way to start a demo cluster on this machine: ${reasons.join('; ')}`,
    )
  }
}

/**
 * Polls `check` until it returns true, the deadline passes or `signal` aborts. The demo's
 * measurements come from event streams; polling only decides when a step is over.
 */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  {
    timeoutMs,
    intervalMs = 25,
    signal,
  }: { timeoutMs: number; intervalMs?: number; signal: AbortSignal },
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  let last: unknown
  for (;;) {
    if (signal.aborted) throw new DemoInterruptedError()
    try {
      if (await check()) return
      last = undefined
    } catch (err) {
      last = err
    }
    if (performance.now() > deadline) throw new DemoTimeoutError(what, timeoutMs, last)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, intervalMs)
      function done() {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
