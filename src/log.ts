// The one way to print. Every log line, annotation, the failure, every output, every mask and the
// job summary go through a Log made here; src/runner-actions.ts hands one to run(), and nothing
// else in src/ speaks to @actions/core's printing functions (a test checks). Messages mix our
// text with text from servers, cluster objects and registries (an admission webhook's denial, a
// username inside an existing Secret, a token service's error), so every message is treated as
// untrusted, whole, at the moment it is printed: no caller has to remember.
//
// What the runner would act on (actions/runner, src/Runner.Common/ActionCommand.cs and
// src/Runner.Worker/ActionCommandManager.cs): a line that starts with `::name::` after leading
// white space (TryParseV2), or that holds `##[name]` anywhere (the legacy TryParse), for any
// registered command: set-output, add-mask, error, stop-commands (which switches command
// processing off for the rest of the step), ... The runner reads stdout and stderr line by line,
// a line ending at \n, \r or \r\n. @actions/core escapes % \r \n only inside a command's message
// (core.error, warning, setOutput ...), never in core.info. So a message here:
// - keeps to one line: line breaks (\n \r \v \f NEL U+2028 U+2029) become visible escapes (`\n`);
// - loses ANSI escape sequences (CSI, OSC, other ESC sequences, their 8-bit C1 forms), every other
//   control character and the bidirectional-override characters that reorder what a reader sees;
// - cannot start with `::` or hold `##[` (`: :` and `## [` are printed instead);
// - has every registered secret replaced by `***` before and after that rendering, so a secret
//   whose rendering differs from its raw value (a multi-line one, now on one line) is still hidden.
//   Masks are also registered with the runner in their rendered form.
// Job summary text is escaped for GitHub-flavoured Markdown on top (see markdownText).
/* eslint-disable no-control-regex -- finding control characters is what these expressions are for */
import * as core from '@actions/core';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';

// ------------------------------------------------------------------------------ pure rendering

/** ESC and 8-bit C1 sequences: CSI (with its parameters), OSC/DCS/SOS/PM/APC up to their terminator, other two-character escapes. */
const ANSI =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|[\u001b][\]PX^_][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)|[\u009d\u0090\u0098\u009e\u009f][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)|\u001b[ -/]*[0-~]/g;
/** Line breaks, as any reader of the log might split on them. */
const BREAK = /\r\n|[\n\r\u000b\u000c\u0085\u2028\u2029]/g;
const BREAK_ESCAPES: Record<string, string> = {
  '\r\n': '\\r\\n',
  '\n': '\\n',
  '\r': '\\r',
  '\u000b': '\\v',
  '\u000c': '\\f',
  '\u0085': '\\u0085',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};
/** Control characters other than tab and the line breaks above; bidirectional embeddings, overrides and isolates. */
const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function stripEscapes(text: string): string {
  return text.replace(ANSI, '').replace(CONTROL, '');
}

/** Makes a line the runner reads as text: no leading `::`, no `##[` anywhere. */
function defang(line: string): string {
  return line.replace(/##\[/g, '## [').replace(/^(\s*):(?=:)/, '$1: ');
}

/**
 * Untrusted text as one inert log line: ANSI escapes and control characters removed, line breaks
 * shown as `\n` (and the like), no workflow command. Idempotent.
 */
export function neutralise(text: string): string {
  return defang(stripEscapes(String(text).replace(BREAK, (b) => BREAK_ESCAPES[b] ?? '\\n'))).replace(/\t/g, ' ');
}

/**
 * Untrusted text as GitHub-flavoured Markdown that renders as that text and nothing else, for a
 * table cell, a list item or a heading: no HTML (`< > &` as entities), Markdown punctuation
 * backslash-escaped (`|` cannot split a table row, backticks open no code span, `[` makes no link),
 * no block marker at the start, line breaks as `<br>`. GitHub links @names, #123 and bare URLs
 * after Markdown is rendered (a backslash does not stop it), so a zero-width space (&#8203;, as
 * Dependabot writes mentions) goes after `@` and `#` and inside `://` and `www.`.
 */
export function markdownText(text: string): string {
  return stripEscapes(String(text))
    .split(BREAK)
    .map((line) =>
      line
        .replace(/\t/g, ' ')
        .trim()
        .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)
        .replace(/[\\`*_[\]|~#!{}]/g, '\\$&')
        .replace(/#(?=[\p{L}\p{N}])/gu, '#&#8203;') // before the other steps add entities (which hold a #)
        .replace(/@(?=[\p{L}\p{N}_-])/gu, '@&#8203;')
        .replace(/:\/\//g, ':&#8203;//')
        .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}&#8203;.`)
        .replace(/^([-+=])/, '\\$1')
        .replace(/^(\d+)([.)])/, '$1\\$2'),
    )
    .join('<br>');
}

// ------------------------------------------------------------------------------ the job summary

/**
 * What the job summary holds. Every string is text: the renderer escapes all of it. A doc with no
 * title is one line (the lead): what an input error or an early failure writes.
 */
export interface SummaryDoc {
  title?: string;
  /** the run at a glance, before anything else (counts, failures), one line each: a bold label and its text */
  lead?: { label: string; text?: string }[];
  table?: { head: string[]; rows: string[][] };
  facts?: { label: string; value: string }[];
  /** an https link of our own making (the admin-consent page): rendered clickable */
  links?: { label: string; url: string }[];
  notes?: string[];
  /** long details, folded under a line of our own words (`<details>`): each item a bullet, with an optional bold label */
  folds?: SummaryFold[];
  plan?: string[];
}

export interface SummaryFold {
  summary: string;
  items: { label?: string; text: string }[];
}

/** The longest table cell, in characters: a longer one is cut with `…` (the whole text goes in a fold). */
export const CELL_MAX = 120;
/** The longest note shown as a bullet; a longer one is cut there, and shown whole in a fold. */
export const NOTE_MAX = 300;
/** More plan lines than this are folded. */
const PLAN_SHOWN = 10;

/** The first `max` characters (code points) of a line, with `…` when cut. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max
    ? text
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}

/** An https URL as a Markdown autolink; anything else as text. */
function autolink(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:') return `<${u.href}>`; // the serializer percent-encodes < > " and spaces
  } catch {
    // not a URL
  }
  return markdownText(url);
}

/**
 * Text inside raw HTML (a fold's `<summary>`), where Markdown is not read: one line, entities for
 * `& < > " '`, and the zero-width space after `@` and `#` and inside `://` that markdownText uses.
 */
function htmlText(text: string): string {
  return stripEscapes(String(text))
    .replace(BREAK, ' ')
    .replace(/\t/g, ' ')
    .trim()
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
    .replace(/#(?=[\p{L}\p{N}])/gu, '#&#8203;')
    .replace(/@(?=[\p{L}\p{N}_-])/gu, '@&#8203;')
    .replace(/:\/\//g, ':&#8203;//');
}

export function summaryMarkdown(doc: SummaryDoc, redact: (s: string) => string = (s) => s): string {
  const md = (s: string) => markdownText(redact(s)) || '–';
  const cell = (s: string) => markdownText(clip(redact(s), CELL_MAX)) || '–';
  const lines: string[] = [];
  const para = () => {
    if (lines.length && lines.at(-1) !== '') lines.push('');
  };
  if (doc.title) lines.push(`### ${md(doc.title)}`, '');
  for (const l of doc.lead ?? []) lines.push(`**${md(l.label)}**${l.text ? `: ${md(l.text)}` : ''}`, '');
  if (!doc.title && !doc.table && !doc.facts?.length && !doc.notes?.length && !doc.folds?.length && !doc.plan?.length) {
    return `${lines.filter(Boolean).join('\n')}\n`; // one line
  }
  if (doc.table) {
    const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
    lines.push(row(doc.table.head), `|${doc.table.head.map(() => '---|').join('')}`);
    for (const r of doc.table.rows) lines.push(row(doc.table.head.map((_, i) => r[i] ?? '')));
    lines.push('');
  }
  const folds = [...(doc.folds ?? [])];
  const long: SummaryFold['items'] = [];
  for (const f of doc.facts ?? []) lines.push(`- **${md(f.label)}**: ${md(f.value)}`);
  for (const l of doc.links ?? []) lines.push(`- **${md(l.label)}**: ${autolink(redact(l.url))}`);
  for (const n of doc.notes ?? []) {
    const shown = redact(n);
    if ([...shown].length <= NOTE_MAX) lines.push(`- ${md(n)}`);
    else {
      lines.push(`- ${markdownText(clip(shown, NOTE_MAX))} (in full below)`);
      long.push({ text: n });
    }
  }
  if (long.length) folds.push({ summary: long.length === 1 ? 'The long note in full' : `The ${long.length} long notes in full`, items: long });
  if (doc.plan?.length) {
    if (doc.plan.length <= PLAN_SHOWN) {
      para();
      lines.push('**Plan**', '', ...doc.plan.map((p) => `- ${md(p)}`));
    } else folds.unshift({ summary: `Plan: ${doc.plan.length} steps`, items: doc.plan.map((text) => ({ text })) });
  }
  for (const f of folds) {
    if (!f.items.length) continue;
    para();
    // A blank line after the opening tag and before the closing one: GitHub reads the items as Markdown.
    lines.push(`<details><summary>${htmlText(redact(f.summary))}</summary>`, '');
    for (const i of f.items) lines.push(`- ${i.label ? `**${md(i.label)}**: ` : ''}${md(i.text)}`);
    lines.push('', '</details>');
  }
  while (lines.at(-1) === '') lines.pop();
  return `${lines.join('\n')}\n`;
}

// ------------------------------------------------------------------------------ the log

/** The runner's raw functions, as @actions/core gives them (tests hand in a recorder). */
export interface LogSink {
  info(line: string): void;
  debug(line: string): void;
  warning(line: string): void;
  notice(line: string): void;
  /** `::group::line`: the lines up to endGroup fold under it in the runner's log */
  startGroup(line: string): void;
  endGroup(): void;
  /** `::error::` and exit code 1 */
  setFailed(line: string): void;
  setSecret(value: string): void;
  setOutput(name: string, value: string): void;
  /** appends to the job summary file (nothing when there is none); throws an Error saying what failed */
  appendSummary(markdown: string): void;
}

export interface Log {
  info(message: string): void;
  debug(message: string): void;
  warning(message: string): void;
  notice(message: string): void;
  /**
   * One line, with its details folded under it in the runner's log (`::group::` ... `::endgroup::`);
   * just the line when there are no details. Printed at once, so no other line lands inside.
   */
  group(message: string, details: readonly string[]): void;
  /** the single failure line: `::error::message` and exit code 1 */
  fail(message: string): void;
  /** registers a value to mask in every later line (the raw value and its one-line rendering) */
  setSecret(value: string): void;
  /** an output of one line of text (neutralised; not masked: outputs are files the runner never prints) */
  setOutput(name: string, value: string): void;
  /** an output of several values, one per line, each neutralised */
  setOutputLines(name: string, values: string[]): void;
  /** an output of JSON whose every string is neutralised and masked (e.g. `results`, which carries server text) */
  setOutputJson(name: string, value: unknown): void;
  /** an output whose exact value matters and that we rendered ourselves (the docker config JSON, the manifest YAML) */
  setOutputExact(name: string, value: string): void;
  /** appends the job summary (no-op when GITHUB_STEP_SUMMARY is unset) */
  summary(doc: SummaryDoc): void;
}

/**
 * Shorter secrets are registered with the runner (which masks them as given) but not replaced
 * here: a one-letter test password would otherwise turn every such letter of every message into
 * `***`. Their renderings equal their raw values unless they hold a line break or a control
 * character, so the runner's mask still finds them.
 */
const MIN_REDACTED = 4;

export function createLog(sink: LogSink): Log {
  const registered = new Set<string>();
  /** registered secrets and their one-line renderings, longest first */
  let masks: string[] = [];
  const redact = (text: string) => {
    let out = text;
    for (const m of masks) if (out.includes(m)) out = out.split(m).join('***');
    return out;
  };
  const line = (message: string) => redact(neutralise(redact(String(message))));
  const deep = (v: unknown): unknown =>
    typeof v === 'string'
      ? line(v)
      : Array.isArray(v)
        ? v.map(deep)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [line(k), deep(x)]))
          : v;
  const log: Log = {
    info: (m) => sink.info(line(m)),
    debug: (m) => sink.debug(line(m)),
    warning: (m) => sink.warning(line(m)),
    notice: (m) => sink.notice(line(m)),
    group: (m, details) => {
      if (!details.length) return sink.info(line(m));
      sink.startGroup(line(m));
      for (const d of details) sink.info(line(d));
      sink.endGroup();
    },
    fail: (m) => sink.setFailed(line(m)),
    setSecret: (value) => {
      if (typeof value !== 'string' || !value.trim()) return;
      for (const form of new Set([value, neutralise(value)])) {
        if (!form.trim() || registered.has(form)) continue;
        registered.add(form);
        sink.setSecret(form);
        if (form.length >= MIN_REDACTED) masks = [...masks, form].sort((a, b) => b.length - a.length);
      }
    },
    setOutput: (name, value) => sink.setOutput(name, neutralise(value)),
    setOutputLines: (name, values) => sink.setOutput(name, values.map(neutralise).join('\n')),
    setOutputJson: (name, value) => sink.setOutput(name, JSON.stringify(deep(value))),
    setOutputExact: (name, value) => sink.setOutput(name, value),
    summary: (doc) => {
      try {
        sink.appendSummary(redact(summaryMarkdown(doc, redact)));
      } catch (e) {
        // A summary that cannot be written costs the summary only, not the step: the work is done by then.
        log.warning((e as Error).message);
      }
    },
  };
  return log;
}

/** The real runner: @actions/core's commands on stdout, the output and summary files. */
export const actionsSink: LogSink = {
  info: (l) => core.info(l),
  debug: (l) => core.debug(l),
  warning: (l) => core.warning(l),
  notice: (l) => core.notice(l),
  startGroup: (l) => core.startGroup(l),
  endGroup: () => core.endGroup(),
  setFailed: (l) => core.setFailed(l),
  setSecret: (v) => core.setSecret(v),
  setOutput: (n, v) => core.setOutput(n, v),
  // One markdown block appended to the file. core.summary would do the same through fs/promises,
  // whose first load (with readline) costs about 5 ms of every run.
  appendSummary: (md) => {
    const file = process.env.GITHUB_STEP_SUMMARY;
    if (!file) return;
    try {
      appendFileSync(file, md + EOL);
    } catch (e) {
      throw new Error(`Could not write the job summary to ${file}: ${(e as Error).message}`, { cause: e });
    }
  },
};
