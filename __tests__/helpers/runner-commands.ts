// How the Actions runner reads a line of a step's stdout or stderr (actions/runner,
// src/Runner.Common/ActionCommand.cs and src/Runner.Worker/ActionCommandManager.cs): TryParseV2
// takes `::name props::data` after leading white space (String.TrimStart), and failing that the
// legacy TryParse takes `##[name props]data` found anywhere in the line; either only for a
// registered command. Lines end at \n, \r or \r\n (StreamReader.ReadLine).

/** Commands the runner registers: the command extensions, plus stop-commands (ActionCommandManager). */
export const REGISTERED = new Set(
  'set-env set-output save-state add-mask add-path add-matcher remove-matcher debug warning error notice group endgroup echo stop-commands'.split(
    ' ',
  ),
);
/** What this action itself issues on stdout. */
export const OURS = new Set(['add-mask', 'debug', 'warning', 'notice', 'error', 'group', 'endgroup']);

/** .NET's Char.IsWhiteSpace, which String.TrimStart removes. */
const LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** The command the runner would take from one line; undefined for a plain line. */
export function runnerCommand(line: string): { name: string; data: string } | undefined {
  const v2 = line.replace(LEADING_SPACE, '');
  if (v2.startsWith('::')) {
    const end = v2.indexOf('::', 2);
    if (end > 0) {
      const name = v2.slice(2, end).split(' ')[0];
      if (REGISTERED.has(name)) return { name, data: v2.slice(end + 2) };
    }
  }
  const at = line.indexOf('##[');
  if (at >= 0) {
    const rb = line.indexOf(']', at);
    if (rb > 0) {
      const name = line.slice(at + 3, rb).split(' ')[0];
      if (REGISTERED.has(name)) return { name, data: line.slice(rb + 1) };
    }
  }
  return undefined;
}

/** The lines the runner reads from a stream. */
export const runnerLines = (text: string): string[] => text.split(/\r\n|\r|\n/);

/** The cell separators GitHub sees in a Markdown table row: each `|` not escaped by a backslash. */
export const tableSeparators = (row: string): number => row.match(/(?<!\\)(?:\\\\)*\|/g)?.length ?? 0;
