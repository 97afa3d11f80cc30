/**
 * A file-system error as a reader says it: what went wrong in words, with the code kept for searching
 * (`no such file (ENOENT)`), instead of a bare `ENOENT`. The path is said once, by the caller.
 * @module
 */

const WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  EBUSY: 'the file is locked by another program',
};

export function ioErrorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string') return Object.hasOwn(WORDS, code) ? `${WORDS[code]} (${code})` : code;
  return error instanceof Error ? error.message : String(error);
}
