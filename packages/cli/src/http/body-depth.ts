import { ValidationError } from '@grapevine/core'

/**
 * The deepest nesting of objects and arrays a request body may have. A registration needs 4
 * (body → checks → check → headers); anything deeper is a mistake or an attack, and recursive
 * code downstream (JSON.stringify of a saved file, a logger) must never meet 10,000 levels.
 */
export const MAX_BODY_DEPTH = 8

/**
 * Throws `ValidationError('body')` when the JSON text nests deeper than `max`. It scans the
 * text once, without recursion and before JSON.parse builds anything; brackets inside strings
 * are skipped (with their escapes), so it never miscounts valid JSON.
 */
export function checkJsonDepth(text: string, max = MAX_BODY_DEPTH): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      depth++
      if (depth > max) {
        throw new ValidationError(
          'body',
          `must not nest objects and arrays deeper than ${max} levels`,
        )
      }
    } else if (c === 0x7d || c === 0x5d) depth--
  }
}
