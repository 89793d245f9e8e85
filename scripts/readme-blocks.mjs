// The fenced code blocks of README.md in one language, in order: the TypeScript ones are
// type-checked with the workspace (extract-readme-examples.mjs) and against the published
// types (pack-check.mjs); the JavaScript ones run as written in pack-check's consumer project.
import { readFileSync } from 'node:fs'

/** @param {string} lang e.g. `ts` or `js` @param {string} [file] @returns {string[]} */
export function readmeBlocks(lang, file = 'README.md') {
  const readme = readFileSync(file, 'utf8')
  return [...readme.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (m) => m[1] ?? '',
  )
}
