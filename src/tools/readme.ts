// The README's tables of figures are copies of the committed reports' tables, never typed by hand:
// each one sits under a `<!-- from docs/reports/NAME.md -->` line, and this tool replaces it with
// the table of the same header in that report. `--check` changes nothing and fails on any drift,
// or on a table of figures without a source (test/report.test.ts runs the check).
//
//   node out/src/tools/readme.js [--check]      (npm run readme: after regenerating a report)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../engine/paths';

const SOURCE = /^<!-- from (\S+\.md) -->$/;

interface Table { start: number; end: number; lines: string[] }

/** The markdown tables of a text, as line ranges [start, end). */
export function tables(lines: string[]): Table[] {
  const out: Table[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('|')) continue;
    const start = i;
    while (i < lines.length && lines[i].startsWith('|')) i++;
    out.push({ start, end: i, lines: lines.slice(start, i) });
  }
  return out;
}

/** A table holds figures when a data row (past the header and the rule) has a number standing alone (not `d256` or `4-bit`). */
const hasFigures = (t: Table) => t.lines.slice(2).some((l) => /(^|[\s|(*])[-+]?\d[\d.,]*(%|x|M|ms)?(?=[\s|)*]|$)/.test(l));

/**
 * The README with every sourced table replaced by its report's table (same header line), and the
 * problems found: a source or header that does not exist, or a table of figures with no source.
 */
export function syncTables(readme: string, readReport: (file: string) => string | undefined): { text: string; problems: string[] } {
  const lines = readme.split('\n');
  const problems: string[] = [];
  // Bottom-up, so replacing a table does not move the ones still to do.
  for (const t of tables(lines).reverse()) {
    const src = SOURCE.exec(lines[t.start - 1] ?? '')?.[1];
    if (!src) {
      if (hasFigures(t)) problems.push(`README line ${t.start + 1}: a table of figures without a "<!-- from docs/reports/....md -->" line above it`);
      continue;
    }
    const report = readReport(src);
    if (report === undefined) {
      problems.push(`README line ${t.start + 1}: ${src} does not exist`);
      continue;
    }
    const match = tables(report.split('\n')).find((r) => r.lines[0] === t.lines[0]);
    if (!match) {
      problems.push(`README line ${t.start + 1}: ${src} has no table with the header ${t.lines[0]}`);
      continue;
    }
    lines.splice(t.start, t.end - t.start, ...match.lines);
  }
  return { text: lines.join('\n'), problems };
}

export function readmeSync(root = packageRoot()): { text: string; problems: string[]; changed: boolean } {
  const file = path.join(root, 'README.md');
  const before = fs.readFileSync(file, 'utf8');
  const r = syncTables(before, (src) => {
    const p = path.join(root, src);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
  });
  return { ...r, changed: r.text !== before };
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const r = readmeSync();
  for (const p of r.problems) console.error(p);
  if (check) {
    if (r.changed) console.error('README.md differs from its reports: run npm run readme.');
    process.exitCode = r.changed || r.problems.length ? 1 : 0;
  } else {
    if (r.changed) fs.writeFileSync(path.join(packageRoot(), 'README.md'), r.text);
    console.log(r.changed ? 'README.md tables updated from the reports.' : 'README.md tables already match the reports.');
    process.exitCode = r.problems.length ? 1 : 0;
  }
}
