// The CLI's two kinds of failure: a wrong command line (exit 2) and a failure while doing what
// was asked (exit 1). Either is reported as one line on stderr, never a stack trace.
import { BitnetError } from '../errors.js';

/** The command line is wrong: exit code 2. */
export class UsageError extends Error {}

/** stdout was closed by its reader (`| head`): stop quietly, exit 0. */
export class OutputClosed extends Error {}

/** Why a file could not be used, by the errno code Node reports. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
};

/** One line saying what went wrong (no stack, no newlines). */
export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  let text: string;
  if (e instanceof BitnetError || e instanceof UsageError) text = e.message;
  else if (err?.code && FILE_ERRORS[err.code]) text = `${err.path ?? 'file'}: ${FILE_ERRORS[err.code]}`;
  else if (e instanceof Error) text = e.message || e.name;
  else text = String(e);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Fails early (before a model loads) when an input file cannot be read, saying why. */
export async function checkReadable(path: string, what: string): Promise<void> {
  const fs = await import('node:fs/promises');
  try {
    const st = await fs.stat(path);
    if (st.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR', path });
    await fs.access(path, fs.constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new Error(`${what} ${path}: ${FILE_ERRORS[code] ?? describeError(e)}`);
  }
}
