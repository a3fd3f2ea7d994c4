// BitnetError lives in bindings/ (the glue throws it too, and bindings/ imports nothing from src/).
export { BitnetError, type BitnetErrorCode } from '../bindings/errors.js';
