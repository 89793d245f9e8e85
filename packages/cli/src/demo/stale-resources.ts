import { readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runIp } from './network-namespaces.js'

/**
 * A demo that was SIGKILLed (or lost its terminal) could not clean up. Its namespaces and temp
 * dir carry its pid in their names, so the next demo recognises them and removes those whose
 * owner is gone. Namespaces of a demo still running (or of a test run) are left alone.
 */
export interface StaleResources {
  namespaces: string[]
  dirs: string[]
}

/** Whether process `pid` exists (EPERM: it does, but belongs to someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function staleOwner(name: string, pattern: RegExp): boolean {
  const owner = pattern.exec(name)?.[1]
  return owner !== undefined && !isAlive(Number(owner))
}

/** Removes `<prefix>-<pid>-<serial>-<role>` namespaces whose pid is gone, killing what runs inside. */
export async function removeStaleNamespaces(prefix: string): Promise<string[]> {
  const pattern = new RegExp(`^${prefix}-(\\d+)-\\d+-[a-z0-9]+$`)
  const names = (await runIp(['netns', 'list']))
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => staleOwner(name, pattern))
  for (const ns of names) {
    // Agents that outlived their demo (they stop when stdin closes, but a frozen one would not)
    // keep the namespace alive after `netns del`; nothing else runs in a namespace we named.
    const pids = await runIp(['netns', 'pids', ns]).catch(() => '')
    for (const pid of pids.split('\n').filter((line) => /^\d+$/.test(line))) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
    await runIp(['netns', 'del', ns]).catch(() => {})
  }
  return names
}

/** Removes `<prefix><pid>-XXXXXX` directories in the temp dir whose pid is gone. */
export async function removeStaleTempDirs(prefix: string, parent = tmpdir()): Promise<string[]> {
  const pattern = new RegExp(`^${prefix}(\\d+)-\\w+$`)
  const names = (await readdir(parent).catch(() => [])).filter((name) => staleOwner(name, pattern))
  for (const name of names) await rm(join(parent, name), { recursive: true, force: true })
  return names.map((name) => join(parent, name))
}

export async function removeStaleResources(
  namespacePrefix: string,
  dirPrefix: string,
): Promise<StaleResources> {
  return {
    namespaces: await removeStaleNamespaces(namespacePrefix),
    dirs: await removeStaleTempDirs(dirPrefix),
  }
}
