/**
 * How a child process ended, for the pools that run hostile work in one (the content sandbox, the analyze
 * pool). Kept apart from them so that reading it loads nothing else.
 * @module
 */

/**
 * Whether a child process's exit is V8 giving up on an exhausted heap: it aborts (SIGABRT or SIGTRAP, or exit
 * code 133/134 where the signal is turned into a code).
 */
export function exitedOutOfHeap(code: number | null, signal: NodeJS.Signals | null): boolean {
  return signal === 'SIGABRT' || signal === 'SIGTRAP' || code === 133 || code === 134;
}
