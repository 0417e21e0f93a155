// Stands in for `node:crypto` inside @actions/core's file-command module only (scripts/build.mjs
// routes that one import here). @actions/core needs just `randomUUID()` there, to make the heredoc
// delimiter of each GITHUB_OUTPUT / GITHUB_ENV entry, and loading `node:crypto` for it costs about
// 12 ms of start-up (OpenSSL bindings and the stream modules), about a tenth of the whole render
// path (bench/RESULTS.md). The delimiter needs to be unique, not secret: @actions/core refuses any
// value that contains it, so a guessed delimiter cannot inject an output. Our own code imports
// `node:crypto` directly wherever it needs real randomness or hashing.
let counter = 0;

export function randomUUID(): string {
  const hex = (n: number) =>
    Math.floor(Math.random() * 16 ** n)
      .toString(16)
      .padStart(n, '0');
  const tick = (process.hrtime.bigint() + BigInt(++counter)).toString(16).padStart(12, '0').slice(-12);
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + Math.floor(Math.random() * 4)).toString(16)}${hex(3)}-${tick}`;
}
