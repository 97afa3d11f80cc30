/**
 * Colours for severities in the text formats, through `util.styleText`. Whether to colour is decided once per
 * run ({@link colourWanted}): never when the output is not a terminal (a pipe, a file, `-o`), never with
 * `NO_COLOR`, always with `FORCE_COLOR` (other than `0`). The escapes are added around our own severity labels
 * only; message content is made terminal-safe before it gets here and is never styled.
 * @module
 */
import { styleText } from 'node:util';

/** https://no-color.org and Node's FORCE_COLOR: the explicit force wins, then NO_COLOR, then "is it a terminal". */
export function colourWanted(env: NodeJS.ProcessEnv, isTty: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  if (force === '0' || force === 'false') return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTty && env.TERM !== 'dumb';
}

type Format = Parameters<typeof styleText>[0];
const SEVERITY_STYLE: Readonly<Record<string, Format>> = {
  HIGH: ['red', 'bold'] as unknown as Format,
  MEDIUM: 'yellow',
  MED: 'yellow',
  LOW: 'cyan',
  INFO: 'gray',
};

// The severity label that starts a finding line (`  HIGH DS204 …`, `    LOW    DS707 …`) in the text renderers.
const SEVERITY_LABEL = /^([ \t]*)(HIGH|MEDIUM|MED|LOW|INFO|info)(?=[ \t]+DS\d{3}\b)/gm;

/** The text with each finding's severity label coloured (call only when {@link colourWanted}). */
export function styleSeverities(text: string): string {
  return text.replace(SEVERITY_LABEL, (_m, indent: string, label: string) => {
    const style = SEVERITY_STYLE[label.toUpperCase()] ?? 'reset';
    // Node 22+ would check process.stdout itself; the decision was made for the stream we write to.
    const styled = (styleText as (f: Format, t: string, o?: { validateStream: boolean }) => string)(style, label, {
      validateStream: false,
    });
    return `${indent}${styled}`;
  });
}
