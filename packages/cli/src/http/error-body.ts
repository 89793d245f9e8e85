/** The JSON body of every error answer: `{error: {code, message, field?}}`. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string }
}

/** HTTP status by Grapevine error code; codes not listed are 500. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  ERR_VALIDATION: 400,
  ERR_BAD_JSON: 400,
  ERR_BAD_URL: 400,
  ERR_NOT_TTL_CHECK: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_NOT_FOUND: 404,
  ERR_CHECK_NOT_FOUND: 404,
  ERR_ROUTE_NOT_FOUND: 404,
  ERR_BODY_TOO_LARGE: 413,
  ERR_PATH_TOO_LONG: 414,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_NOT_SUPPORTED: 501,
  ERR_AGENT_STOPPED: 503,
}

// Fastify's own client errors, renamed into our codes so clients match one vocabulary.
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_BAD_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_BAD_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  // The router's own refusals (a malformed percent-escape, a segment over maxParamLength).
  FST_ERR_BAD_URL: 'ERR_BAD_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'ERR_PATH_TOO_LONG',
}

interface ErrorLike {
  code?: unknown
  message?: unknown
  field?: unknown
  statusCode?: unknown
  name?: unknown
}

/**
 * Maps a thrown value to a status and body. Matches on `code`, not `instanceof`, so errors
 * from a duplicate copy of @grapevine/core map the same. Unknown errors are 500 with a generic
 * message (the detail goes to the log, not to the client).
 */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike
  const rawCode = typeof e.code === 'string' ? e.code : undefined
  const message = typeof e.message === 'string' ? e.message : String(err)
  let code = rawCode === undefined ? undefined : (FASTIFY_CODES[rawCode] ?? rawCode)
  // JSON.parse failures reach the handler as a SyntaxError with statusCode 400 and no code.
  if (code === undefined && e.name === 'SyntaxError' && e.statusCode === 400) code = 'ERR_BAD_JSON'
  const status = code === undefined ? undefined : STATUS_BY_CODE[code]
  if (code !== undefined && status !== undefined) {
    const body: ErrorBody = { error: { code, message } }
    if (code === 'ERR_BAD_JSON') body.error.message = `request body is not valid JSON: ${message}`
    if (typeof e.field === 'string') body.error.field = e.field
    return { status, body, internal: false }
  }
  // Other fastify client errors (4xx) keep their status and message.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      body: { error: { code: rawCode ?? 'ERR_BAD_REQUEST', message } },
      internal: false,
    }
  }
  return {
    status: 500,
    body: { error: { code: 'ERR_INTERNAL', message: 'internal error; see the agent log' } },
    internal: true,
  }
}
