// src/log.ts in process: the neutralisation of untrusted text (a table of cases, then generated
// strings against the runner's own reading of a line), the Markdown escaping of the job summary,
// masking through every rendering, each output form, and the real @actions/core on stdout.
/* eslint-disable no-control-regex -- control characters are the subject of these tests */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionsSink, createLog, markdownText, neutralise, summaryMarkdown, type LogSink, type SummaryDoc } from '../src/log.ts';
import { runnerCommand, runnerLines, tableSeparators } from './helpers/runner-commands.ts';

// ------------------------------------------------------------------------------ neutralise

const NEUTRALISED: [string, string, string][] = [
  ['plain text', 'Kubernetes create secret team-a/x failed (HTTP 403)', 'Kubernetes create secret team-a/x failed (HTTP 403)'],
  ['a newline', 'denied\n::set-output name=x::1', 'denied\\n::set-output name=x::1'],
  ['CR LF', 'a\r\n::error::b', 'a\\r\\n::error::b'],
  ['a lone CR', 'a\r::error::b', 'a\\r::error::b'],
  ['vertical tab and form feed', 'a\u000b::x\u000cb', 'a\\v::x\\fb'],
  ['NEL', 'a\u0085b', 'a\\u0085b'],
  ['Unicode line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
  ['%0A stays text (it means nothing in a log line; core escapes % in commands)', 'a%0A::error::b', 'a%0A::error::b'],
  ['a leading workflow command', '::add-mask::x', ': :add-mask::x'],
  ['a leading workflow command after white space', ' \t ::stop-commands::tok', '   : :stop-commands::tok'],
  ['a leading command after a no-break space', '\u00a0::error::x', '\u00a0: :error::x'],
  ['a command in the middle of a line is text', 'got ::error::x', 'got ::error::x'],
  ['a legacy command anywhere', 'got ##[set-output name=x;]1 and ##[add-mask]y', 'got ## [set-output name=x;]1 and ## [add-mask]y'],
  ['a legacy command hidden by a control character', '#\u0000#[error]x', '## [error]x'],
  ['a legacy command hidden by an escape sequence', '#\u001b[0m#[error]x', '## [error]x'],
  ['three hashes', '###[x]', '### [x]'],
  ['SGR colours', '\u001b[31mred\u001b[0m plain', 'red plain'],
  ['SGR with many parameters', '\u001b[38;5;196;1mx\u001b[m', 'x'],
  ['cursor and erase sequences', 'a\u001b[2K\u001b[1Ab\u001b[?25l', 'ab'],
  ['an OSC 8 hyperlink', '\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007', 'click'],
  ['an OSC title ended by ST', '\u001b]0;title\u001b\\text', 'text'],
  ['an OSC without its end', '\u001b]8;;https://evil.example', '8;;https://evil.example'],
  ['DCS', '\u001bPq#0;2;0;0;0\u001b\\after', 'after'],
  ['two-character escapes (RIS, charset)', '\u001bc\u001b(Bx', 'x'],
  ['an 8-bit CSI', 'a\u009b2Jb', 'ab'],
  ['an 8-bit OSC', 'a\u009d0;t\u009cb', 'ab'],
  ['a lone ESC', 'a\u001b', 'a'],
  ['C0 controls', 'a\u0000b\u0007c\u0008d\u007fe', 'abcde'],
  ['C1 controls', 'a\u0080b\u0090c\u009fd', 'abcd'],
  ['a tab becomes a space', 'a\tb', 'a b'],
  ['bidirectional overrides and isolates', 'user\u202e)lmth.exe\u2066x\u2069', 'user)lmth.exex'],
  ['non-ASCII text stays', 'Fehler: ungültig ✓ 名前', 'Fehler: ungültig ✓ 名前'],
  ['a backslash stays (rendering, not a round trip)', 'C:\\path\\n', 'C:\\path\\n'],
  ['empty', '', ''],
];

test('neutralise: line breaks escaped, escapes and controls removed, no command shape; idempotent', () => {
  for (const [name, input, want] of NEUTRALISED) {
    assert.equal(neutralise(input), want, name);
    assert.equal(neutralise(neutralise(input)), want, `${name} (twice)`);
  }
});

/** A deterministic generator of hostile strings built from the pieces the runner and terminals react to. */
function* hostile(count: number, seed = 12): Generator<string> {
  const pieces = [
    '\n',
    '\r',
    '\r\n',
    '\u2028',
    '\u0085',
    '\u000b',
    '::',
    '::error::',
    '::add-mask::',
    '::stop-commands::',
    'set-output name=x',
    '##[',
    '#',
    '[',
    ']',
    'error',
    'add-mask',
    '\u001b',
    '\u001b[',
    '31m',
    '\u009b',
    '\u001b]8;;',
    '\u0007',
    '%0A',
    '%25',
    ' ',
    '\t',
    '\u00a0',
    '|',
    '`',
    '<',
    '>',
    '&',
    '@octocat',
    '#12',
    '*',
    '_',
    '-',
    '1.',
    'https://x',
    'www.x',
    '\\',
    'a',
    'ü',
    '\u202e',
  ];
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2147483648), x);
  for (let i = 0; i < count; i++) {
    let s = '';
    const n = 1 + (next() % 12);
    for (let j = 0; j < n; j++) s += pieces[next() % pieces.length];
    yield s;
  }
}

test('neutralise: 5000 generated hostile strings each print as one plain line the runner takes no command from', () => {
  let n = 0;
  for (const s of hostile(5000)) {
    const out = neutralise(s);
    const lines = runnerLines(out);
    assert.equal(lines.length, 1, JSON.stringify(s));
    assert.equal(runnerCommand(out), undefined, `${JSON.stringify(s)} -> ${JSON.stringify(out)}`);
    assert.equal(runnerCommand(`prefix ${out}`), undefined, JSON.stringify(s));
    assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, JSON.stringify(s));
    assert.equal(neutralise(out), out, `idempotent: ${JSON.stringify(s)}`);
    n++;
  }
  assert.equal(n, 5000);
});

// ------------------------------------------------------------------------------ Markdown

const MARKDOWN: [string, string, string][] = [
  ['plain', 'created', 'created'],
  ['a pipe cannot split a row', 'a | b', 'a \\| b'],
  ['an escaped pipe cannot unescape ours', 'a \\| b', 'a \\\\\\| b'],
  ['a line break', 'a\nb\r\nc', 'a<br>b<br>c'],
  ['HTML', '<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
  ['an entity stays literal', '&#124; &amp;', '&amp;\\#&#8203;124; &amp;amp;'],
  ['a code span', '`rm -rf`', '\\`rm -rf\\`'],
  ['a link', '[click](https://evil.example)', '\\[click\\](https:&#8203;//evil.example)'],
  ['an image', '![x](y)', '\\!\\[x\\](y)'],
  ['emphasis and strike-through', '**b** _i_ ~~s~~', '\\*\\*b\\*\\* \\_i\\_ \\~\\~s\\~\\~'],
  ['an @mention', 'ping @octocat and @org/team', 'ping @&#8203;octocat and @&#8203;org/team'],
  ['an issue reference', 'fixes #123 and owner/repo#4', 'fixes \\#&#8203;123 and owner/repo\\#&#8203;4'],
  ['a bare URL and www', 'see https://evil.example or www.evil.example', 'see https:&#8203;//evil.example or www&#8203;.evil.example'],
  ['a heading marker at the start', '# Title', '\\# Title'],
  ['a list marker at the start', '- item', '\\- item'],
  ['an ordered-list marker at the start', '1. first', '1\\. first'],
  ['a block quote at the start', '> quote', '&gt; quote'],
  ['indentation (a code block) is trimmed', '    code', 'code'],
  ['a thematic break', '***', '\\*\\*\\*'],
  ['ANSI and controls', '\u001b[31mred\u001b[0m\u0000', 'red'],
  ['a table row of its own on the next line', 'x\n| forged | row |', 'x<br>\\| forged \\| row \\|'],
];

test('markdownText: GitHub Markdown that renders as the text and nothing else', () => {
  for (const [name, input, want] of MARKDOWN) assert.equal(markdownText(input), want, name);
});

test('markdownText: 5000 generated hostile strings keep a table row at its cells, with no HTML, code span, link or line break', () => {
  for (const s of hostile(5000, 99)) {
    const row = `| ${markdownText(s)} | x |`;
    assert.equal(tableSeparators(row), 3, `${JSON.stringify(s)} -> ${row}`);
    assert.doesNotMatch(row, /[\n\r\u2028\u2029\u0085]/, JSON.stringify(s));
    assert.doesNotMatch(row.replace(/<br>/g, ''), /[<>]/, JSON.stringify(s));
    assert.doesNotMatch(row, /(?<!\\)(?:\\\\)*[`[\]*_]/, JSON.stringify(s));
    assert.doesNotMatch(row, /@(?!&#8203;)\w|(?<!&)#(?!&#8203;)\d/, JSON.stringify(s));
  }
});

test('summaryMarkdown: one row per result with its cells, facts and notes escaped, only https links of our own clickable', () => {
  const evil = 'a | b\n| forged | row |';
  const doc: SummaryDoc = {
    title: `acr-kube-auth: attach · ${evil}`,
    table: { head: ['namespace', 'result'], rows: [[evil, `❌ failed: ${evil}`], ['team-b']] },
    facts: [{ label: 'username', value: '<b>x</b>' }],
    links: [
      { label: 'consent url', url: 'https://login.example/t/adminconsent?client_id=a b' },
      { label: 'not https', url: 'javascript:alert(1)' },
    ],
    notes: ['- a note that looks like a list'],
    plan: ['1. step'],
  };
  const md = summaryMarkdown(doc);
  const rows = md.split('\n').filter((l) => l.startsWith('|'));
  assert.equal(rows.length, 4, 'head, rule and two results');
  for (const r of rows) assert.equal(tableSeparators(r), 3, r);
  assert.match(rows[3], /^\| team-b \| – \|$/, 'a missing cell is a dash');
  assert.match(md, /^### acr-kube-auth: attach · a \\\| b<br>\\\| forged/m);
  assert.match(md, /^- \*\*username\*\*: &lt;b&gt;x&lt;\/b&gt;$/m);
  assert.match(md, /^- \*\*consent url\*\*: <https:\/\/login\.example\/t\/adminconsent\?client_id=a%20b>$/m);
  assert.match(md, /^- \*\*not https\*\*: javascript:alert\(1\)$/m);
  assert.match(md, /^- \\- a note that looks like a list$/m);
  assert.match(md, /^\*\*Plan\*\*\n\n- 1\\\. step$/m);
});

// ------------------------------------------------------------------------------ the log

function recorder() {
  const calls: [string, ...string[]][] = [];
  const sink: LogSink = {
    info: (l) => calls.push(['info', l]),
    debug: (l) => calls.push(['debug', l]),
    warning: (l) => calls.push(['warning', l]),
    notice: (l) => calls.push(['notice', l]),
    startGroup: (l) => calls.push(['startGroup', l]),
    endGroup: () => calls.push(['endGroup']),
    setFailed: (l) => calls.push(['setFailed', l]),
    setSecret: (v) => calls.push(['setSecret', v]),
    setOutput: (n, v) => calls.push(['setOutput', n, v]),
    appendSummary: (md) => calls.push(['summary', md]),
  };
  return { sink, calls, log: createLog(sink) };
}

test('every printing function neutralises its whole message', () => {
  const { log, calls } = recorder();
  const evil = 'x\n::set-output name=a::b \u001b[31m##[add-mask]c';
  log.info(`✗ team-a: failed (${evil})`);
  log.debug(evil);
  log.warning(evil);
  log.notice(evil);
  log.fail(evil);
  const want = 'x\\n::set-output name=a::b ## [add-mask]c';
  assert.deepEqual(calls, [
    ['info', `✗ team-a: failed (${want})`],
    ['debug', want],
    ['warning', want],
    ['notice', want],
    ['setFailed', want],
  ]);
});

test('a secret is masked in every rendering: raw, split by an escape sequence, multi-line on one line, and in the summary', () => {
  const { log, calls } = recorder();
  const single = 'Sup3r-secret_value|x';
  const multi = '-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n-----END KEY-----';
  log.setSecret(single);
  log.setSecret(multi);
  log.setSecret(single); // once is enough
  assert.deepEqual(
    calls.filter((c) => c[0] === 'setSecret').map((c) => c[1]),
    [single, multi, neutralise(multi)],
    'the raw value, and the one-line rendering when it differs',
  );
  calls.length = 0;
  log.info(`echoed ${single} and ${multi}`);
  log.info(`split: ${single.slice(0, 5)}\u001b[0m${single.slice(5)}`);
  log.warning(`again ${neutralise(multi)}`);
  log.summary({ title: single, table: { head: ['result'], rows: [[`failed: ${single} ${multi}`]] }, facts: [], notes: [multi] });
  const printed = calls.map((c) => c.slice(1).join(' ')).join('\n');
  assert.deepEqual(calls.slice(0, 3), [
    ['info', 'echoed *** and ***'],
    ['info', 'split: ***'],
    ['warning', 'again ***'],
  ]);
  for (const form of [single, multi, neutralise(multi), markdownText(single), 'MIIEvQIBADANBgkq', 'Sup3r-secret'])
    assert.ok(!printed.includes(form), `printed ${JSON.stringify(form)}`);
  assert.match(printed, /### \\\*\\\*\\\*/, 'the summary shows *** (escaped, so not a rule)');
});

test('a secret of under 4 characters is registered with the runner, but the log does not replace it itself', () => {
  const { log, calls } = recorder();
  log.setSecret('p');
  log.setSecret('   ');
  log.setSecret('');
  log.info('Input password: p');
  assert.deepEqual(calls, [
    ['setSecret', 'p'],
    ['info', 'Input password: p'],
  ]);
});

test('outputs: one-line text neutralised, lines each neutralised, JSON strings neutralised and masked, exact values untouched', () => {
  const { log, calls } = recorder();
  log.setSecret('tok-123456');
  calls.length = 0;
  log.setOutput('username', 'evil\n::set-output name=x::y\u001b[0m');
  log.setOutputLines('role-assignment-ids', ['/a\n/b', '/c']);
  log.setOutputJson('results', [{ target: 'team-a', ok: false, error: 'echo tok-123456\n::error::x\u001b[31m', n: 1 }]);
  log.setOutputExact('manifest', 'a: 1\nb: "tok-123456"\n');
  assert.deepEqual(calls, [
    ['setOutput', 'username', 'evil\\n::set-output name=x::y'],
    ['setOutput', 'role-assignment-ids', '/a\\n/b\n/c'],
    ['setOutput', 'results', '[{"target":"team-a","ok":false,"error":"echo ***\\\\n::error::x","n":1}]'],
    ['setOutput', 'manifest', 'a: 1\nb: "tok-123456"\n'],
  ]);
  assert.equal(JSON.parse(calls[2][2])[0].error, 'echo ***\\n::error::x');
});

test('a summary that cannot be written is one warning, neutralised', () => {
  const calls: string[] = [];
  const log = createLog({
    ...recorder().sink,
    warning: (l) => calls.push(l),
    appendSummary: () => {
      throw new Error('Could not write the job summary to /x\n::error::y');
    },
  });
  log.summary({ title: 't', table: { head: ['a'], rows: [] }, facts: [], notes: [] });
  assert.deepEqual(calls, ['Could not write the job summary to /x\\n::error::y']);
});

// ------------------------------------------------------------------------------ on the real runner's stdout

/** Runs fn with process.stdout.write recorded (what @actions/core writes), and GITHUB_OUTPUT/GITHUB_STEP_SUMMARY in a temp dir. */
function withStdout(fn: () => void): { stdout: string; output: string; summary: string } {
  const dir = mkdtempSync(join(tmpdir(), 'acr-log-'));
  const saved = { write: process.stdout.write, out: process.env.GITHUB_OUTPUT, sum: process.env.GITHUB_STEP_SUMMARY };
  process.env.GITHUB_OUTPUT = join(dir, 'output');
  writeFileSync(process.env.GITHUB_OUTPUT, '');
  process.env.GITHUB_STEP_SUMMARY = join(dir, 'summary');
  let stdout = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = saved.write;
    for (const [k, v] of [
      ['GITHUB_OUTPUT', saved.out],
      ['GITHUB_STEP_SUMMARY', saved.sum],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  const out = { stdout, output: read('output'), summary: read('summary') };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

test('through @actions/core: each message is one line, the runner takes only our command from it, and masks carry the raw value', () => {
  const evil = 'denied\n::set-output name=pwned::1\r::add-mask::PWN %0A::error::PWN ##[stop-commands]tok';
  const { stdout, output, summary } = withStdout(() => {
    const log = createLog(actionsSink);
    log.setSecret('line-one\nline-two');
    log.info(evil);
    log.warning(evil);
    log.notice(evil);
    log.debug(evil);
    log.fail(evil);
    log.setOutput('username', evil);
    log.summary({ title: 't', table: { head: ['r'], rows: [[evil]] }, facts: [], notes: [] });
  });
  process.exitCode = 0; // core.setFailed set it
  const lines = runnerLines(stdout).filter(Boolean);
  assert.deepEqual(
    lines.map((l) => runnerCommand(l)?.name ?? 'text'),
    ['add-mask', 'add-mask', 'text', 'warning', 'notice', 'debug', 'error'],
  );
  assert.equal(lines[0], '::add-mask::line-one%0Aline-two', 'the raw value, escaped by core as a command message');
  assert.equal(lines[1], '::add-mask::line-one\\nline-two', 'and its one-line rendering');
  for (const l of lines.slice(2)) {
    const data = runnerCommand(l)?.data ?? l;
    assert.ok(!/^\s*PWN/.test(data) && !data.includes('\n'), l);
  }
  assert.match(lines[3], /%250A::error::PWN/, 'core escapes % inside a command: %0A stays text');
  assert.match(
    output,
    /^username<<ghadelimiter_[^\n]+\ndenied\\n::set-output name=pwned::1\\r::add-mask::PWN %0A::error::PWN ## \[stop-commands\]tok\n/,
  );
  assert.equal(summary.split('\n').filter((l) => l.startsWith('|')).length, 3);
});

test('group: one line with its details folded under it, each neutralised; no details, just the line; through core, ::group:: and ::endgroup:: only', () => {
  const { log, calls } = recorder();
  log.setSecret('tok-123456');
  calls.length = 0;
  log.group('✗ team-a: failed: x\n::endgroup::', ['::endgroup::', 'denied tok-123456\r::error::y', '##[group]z']);
  log.group('✓ team-b: created', []);
  assert.deepEqual(calls, [
    ['startGroup', '✗ team-a: failed: x\\n::endgroup::'],
    ['info', ': :endgroup::'],
    ['info', 'denied ***\\r::error::y'],
    ['info', '## [group]z'],
    ['endGroup'],
    ['info', '✓ team-b: created'],
  ]);
  const { stdout } = withStdout(() => {
    const real = createLog(actionsSink);
    real.group('✗ team-a: failed\n::endgroup::', ['::endgroup::', 'detail']);
  });
  const commands = runnerLines(stdout)
    .filter(Boolean)
    .map((l) => runnerCommand(l)?.name ?? 'text');
  assert.deepEqual(commands, ['group', 'text', 'text', 'endgroup'], stdout);
});

test('summaryMarkdown: a doc of one lead line only is that one line', () => {
  const md = summaryMarkdown({ lead: [{ label: '❌ acr-kube-auth failed', text: "Input 'namespaces': x\n| forged |" }] });
  assert.equal(md, "**❌ acr-kube-auth failed**: Input 'namespaces': x<br>\\| forged \\|\n");
});

test('summaryMarkdown: long cells are cut, long notes are cut and shown whole in a fold, a long plan is folded, fold titles are inert HTML text', () => {
  const long = `${'word '.repeat(500)}end`;
  const md = summaryMarkdown({
    title: 't',
    table: { head: ['cluster', 'result'], rows: [['rg/a', `❌ failed: ${long}`]] },
    notes: [long, 'short note'],
    plan: Array.from({ length: 12 }, (_, i) => `step ${i}`),
    folds: [{ summary: '<img src=x> @octocat #1 https://evil.example "q"', items: [{ label: 'rg/a', text: long }] }],
  });
  const cell = md
    .split('\n')
    .find((l) => l.startsWith('| rg/a'))!
    .split(' | ')[1]
    .replace(/ \|$/, '');
  assert.ok(cell.length <= 120 && cell.endsWith('…'), cell);
  const bullets = md.split('\n').filter((l) => l.startsWith('- '));
  assert.ok(bullets.every((b) => b.length < 2600));
  assert.ok(
    bullets.some((b) => b.endsWith('… (in full below)') && b.length < 330),
    'the long note cut',
  );
  assert.ok(md.includes('- short note'));
  assert.ok(!md.includes('**Plan**'), 'a 12-step plan is folded');
  assert.match(md, /^<details><summary>Plan: 12 steps<\/summary>$/m);
  assert.match(md, /^<details><summary>The long note in full<\/summary>\n\n- word word/m);
  const summaryLine = md.split('\n').find((l) => l.includes('octocat'))!;
  assert.equal(summaryLine, '<details><summary>&lt;img src=x&gt; @&#8203;octocat #&#8203;1 https:&#8203;//evil.example &quot;q&quot;</summary>');
  // each fold: a blank line after the opening line and before </details>, so GitHub reads its items as Markdown
  assert.equal((md.match(/<\/summary>\n\n- /g) ?? []).length, 3);
  assert.equal((md.match(/\n\n<\/details>/g) ?? []).length, 3);
});
