export { createHandler, FALLBACK_CHAT_TEMPLATE, type FetchHandler, type ServerOptions, type WaitUntilContext } from './handler.js';
export { toNodeListener, type NodeRequest, type NodeResponse } from './node.js';
export { ApiError } from './errors.js';
