// Malformed requests and the answer each must get: HTTP status and OpenAI's error object
// (type, param, code; the message must match `message`). Used by handler.test.ts (the handler
// in-process) and by test/runtimes/serving.mjs (the same table over HTTP against `serve`).
export interface MalformedCase {
  name: string;
  method?: string;
  path?: string;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  type: string;
  param: string | null;
  code: string;
  message: RegExp;
}

const chat = '/v1/chat/completions', text = '/v1/completions';
const msgs = [{ role: 'user', content: 'Hello' }];

export const MALFORMED: MalformedCase[] = [
  { name: 'body is not JSON', path: chat, body: '{"messages": [', status: 400, type: 'invalid_request_error', param: null, code: 'invalid_json', message: /could not parse the JSON body/ },
  { name: 'empty body', path: chat, body: '', status: 400, type: 'invalid_request_error', param: null, code: 'invalid_json', message: /empty/ },
  { name: 'body is not UTF-8', path: chat, body: '\u00ff', headers: { 'x-raw-latin1': '1' }, status: 400, type: 'invalid_request_error', param: null, code: 'invalid_json', message: /UTF-8/ },
  { name: 'body is a JSON array', path: chat, body: [msgs], status: 400, type: 'invalid_request_error', param: 'body', code: 'invalid_body', message: /must be a JSON object, got an array/ },
  { name: 'messages missing', path: chat, body: { model: 'x' }, status: 400, type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter', message: /Missing required parameter: 'messages'/ },
  { name: 'messages is a string', path: chat, body: { messages: 'Hello' }, status: 400, type: 'invalid_request_error', param: 'messages', code: 'invalid_type', message: /expected an array, but got a string/ },
  { name: 'messages is empty', path: chat, body: { messages: [] }, status: 400, type: 'invalid_request_error', param: 'messages', code: 'empty_array', message: /empty array/ },
  { name: 'unknown role', path: chat, body: { messages: [{ role: 'robot', content: 'x' }] }, status: 400, type: 'invalid_request_error', param: 'messages[0].role', code: 'invalid_value', message: /expected one of system, developer, user, assistant, tool/ },
  { name: 'content is a number', path: chat, body: { messages: [{ role: 'user', content: 42 }] }, status: 400, type: 'invalid_request_error', param: 'messages[0].content', code: 'invalid_type', message: /got a number/ },
  { name: 'image content part', path: chat, body: { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, status: 400, type: 'invalid_request_error', param: 'messages[0].content[0].type', code: 'unsupported_parameter', message: /only text content/ },
  { name: 'temperature is a string', path: chat, body: { messages: msgs, temperature: 'hot' }, status: 400, type: 'invalid_request_error', param: 'temperature', code: 'invalid_type', message: /expected a number, but got a string/ },
  { name: 'temperature out of range', path: chat, body: { messages: msgs, temperature: 5 }, status: 400, type: 'invalid_request_error', param: 'temperature', code: 'invalid_value', message: /\[0, 2\], but got 5/ },
  { name: 'top_p out of range', path: text, body: { prompt: 'x', top_p: -0.5 }, status: 400, type: 'invalid_request_error', param: 'top_p', code: 'invalid_value', message: /\[0, 1\]/ },
  { name: 'max_tokens is fractional', path: chat, body: { messages: msgs, max_tokens: 1.5 }, status: 400, type: 'invalid_request_error', param: 'max_tokens', code: 'invalid_type', message: /expected an integer/ },
  { name: 'max_tokens is 0', path: text, body: { prompt: 'x', max_tokens: 0 }, status: 400, type: 'invalid_request_error', param: 'max_tokens', code: 'invalid_value', message: /but got 0/ },
  { name: 'seed beyond 2^53', path: text, body: { prompt: 'x', seed: 1e300 }, status: 400, type: 'invalid_request_error', param: 'seed', code: 'invalid_value', message: /seed/ },
  { name: 'stream is a string', path: chat, body: { messages: msgs, stream: 'yes' }, status: 400, type: 'invalid_request_error', param: 'stream', code: 'invalid_type', message: /expected a boolean/ },
  { name: 'stream_options without stream', path: chat, body: { messages: msgs, stream_options: { include_usage: true } }, status: 400, type: 'invalid_request_error', param: 'stream_options', code: 'invalid_value', message: /only allowed when 'stream' is enabled/ },
  { name: 'n = 2', path: chat, body: { messages: msgs, n: 2 }, status: 400, type: 'invalid_request_error', param: 'n', code: 'unsupported_parameter', message: /'n' other than 1/ },
  { name: 'five stop sequences', path: text, body: { prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] }, status: 400, type: 'invalid_request_error', param: 'stop', code: 'invalid_value', message: /at most 4 stop sequences/ },
  { name: 'stop sequence is a number', path: text, body: { prompt: 'x', stop: ['a', 7] }, status: 400, type: 'invalid_request_error', param: 'stop[1]', code: 'invalid_type', message: /expected a string, but got a number/ },
  { name: 'misspelt field', path: chat, body: { messages: msgs, max_token: 5 }, status: 400, type: 'invalid_request_error', param: 'max_token', code: 'unknown_parameter', message: /Unrecognized request argument supplied: max_token/ },
  { name: 'chat field on completions', path: text, body: { prompt: 'x', messages: msgs }, status: 400, type: 'invalid_request_error', param: 'messages', code: 'unknown_parameter', message: /Unrecognized request argument/ },
  { name: 'tools', path: chat, body: { messages: msgs, tools: [{ type: 'function', function: { name: 'f' } }] }, status: 400, type: 'invalid_request_error', param: 'tools', code: 'unsupported_parameter', message: /tool calls/ },
  { name: 'token id out of the vocabulary', path: text, body: { prompt: [1, 99999] }, status: 400, type: 'invalid_request_error', param: 'prompt[1]', code: 'invalid_value', message: /but got 99999/ },
  { name: 'two prompts', path: text, body: { prompt: ['a', 'b'] }, status: 400, type: 'invalid_request_error', param: 'prompt', code: 'unsupported_parameter', message: /one prompt per request, got 2/ },
  { name: 'prompt longer than the context', path: text, body: { prompt: 'the '.repeat(2000) }, status: 400, type: 'invalid_request_error', param: 'prompt', code: 'context_length_exceeded', message: /maximum context length is \d+ tokens\. However, your prompt has \d+ tokens/ },
  { name: 'body over the size limit', path: text, body: { prompt: 'x'.repeat(2 << 20) }, status: 413, type: 'invalid_request_error', param: null, code: 'request_too_large', message: /larger than \d+ bytes/ },
  { name: 'GET on a POST route', method: 'GET', path: chat, status: 405, type: 'invalid_request_error', param: null, code: 'method_not_allowed', message: /does not take GET; use POST/ },
  { name: 'unknown route', path: '/v1/embeddings', body: { input: 'x' }, status: 404, type: 'not_found_error', param: null, code: 'unknown_url', message: /Unknown route POST \/v1\/embeddings/ },
  { name: 'unknown model id', method: 'GET', path: '/v1/models/gpt-4', status: 404, type: 'invalid_request_error', param: 'model', code: 'model_not_found', message: /'gpt-4' does not exist/ },
];

/** The bytes of a case's body. */
export function caseBody(c: MalformedCase): Uint8Array | undefined {
  if (c.body === undefined) return undefined;
  if (typeof c.body === 'string') {
    // x-raw-latin1: one byte per character (not UTF-8), to send invalid UTF-8.
    return c.headers?.['x-raw-latin1'] ? Uint8Array.from(c.body, (ch) => ch.charCodeAt(0)) : new TextEncoder().encode(c.body);
  }
  return new TextEncoder().encode(JSON.stringify(c.body));
}
