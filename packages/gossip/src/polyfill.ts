/**
 * Node 20 lacks `Promise.withResolvers`, which `it-queue` (under libp2p's peer store) calls,
 * so `libp2p.stop()` throws there. This module installs it once; `index.ts` imports it before
 * anything that loads libp2p. Remove it when Node 22 is the floor.
 */

interface PromiseWithResolversShape<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const promiseConstructor = Promise as unknown as {
  withResolvers?: <T>() => PromiseWithResolversShape<T>
}

if (typeof promiseConstructor.withResolvers !== 'function') {
  promiseConstructor.withResolvers = <T>(): PromiseWithResolversShape<T> => {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}

export {}
