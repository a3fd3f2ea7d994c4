// Errors of the OpenAI-compatible server: every failure becomes an HTTP status and OpenAI's error
// object `{ error: { message, type, param, code } }` (what the official clients parse).
import { BitnetError, type BitnetErrorCode } from '../errors.js';

export type ApiErrorType = 'invalid_request_error' | 'not_found_error' | 'rate_limit_error' | 'server_error';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly type: ApiErrorType = 'invalid_request_error',
              readonly param: string | null = null, readonly code: string | null = null, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
  }

  get body(): { error: { message: string; type: ApiErrorType; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A 400 about one request field. */
export const badParam = (param: string, message: string, code = 'invalid_value') => new ApiError(400, message, 'invalid_request_error', param, code);

// How the library's own errors surface: input problems are the client's (4xx), the rest the server's.
const BITNET_STATUS: Partial<Record<BitnetErrorCode, [number, ApiErrorType, string]>> = {
  CONTEXT_OVERFLOW: [400, 'invalid_request_error', 'context_length_exceeded'],
  BAD_ARGUMENT: [400, 'invalid_request_error', 'invalid_value'],
  DISPOSED: [503, 'server_error', 'model_unavailable'],
};

/** The client went away (request signal or response stream cancelled); nobody reads this answer. */
export const CLIENT_CLOSED = 499;

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof BitnetError) {
    const [status, type, code] = BITNET_STATUS[e.code] ?? [500, 'server_error', e.code.toLowerCase()];
    return new ApiError(status, e.message, type, null, code);
  }
  if ((e as Error)?.name === 'AbortError') return new ApiError(CLIENT_CLOSED, 'the client closed the request', 'invalid_request_error', null, 'client_closed_request');
  return new ApiError(500, `internal error: ${(e as Error)?.message ?? String(e)}`, 'server_error', null, 'internal_error');
}

export function errorResponse(e: unknown, headers: Record<string, string> = {}): Response {
  const err = toApiError(e);
  return new Response(JSON.stringify(err.body), { status: err.status, headers: { 'content-type': 'application/json', ...headers, ...err.headers } });
}
