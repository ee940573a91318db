/**
 * Reader for ../shared/vectors/sec_agree_examples.txt: blocks separated by `=====` lines,
 * each with `#` comment lines naming its source, a `-----` line, then verbatim lines.
 */
import { sharedFile, type SharedFile } from '../support/shared.js';

export interface ExampleHeader {
  name: 'Security-Client' | 'Security-Server' | 'Security-Verify';
  value: string;
  line: string;
}

export interface ExampleBlock {
  title: string;
  source: string;
  lines: string[];
  headers: ExampleHeader[];
}

function parseExamples(text: string): ExampleBlock[] {
  const blocks: ExampleBlock[] = [];
  for (const raw of text.split(/^=+\s*$/m).slice(1)) {
    const [head, body = ''] = raw.split(/^-{10,}\s*$/m);
    const comments = head.split('\n').filter((l) => l.startsWith('#'));
    const title = (comments[0] ?? '').replace(/^#\s*/, '');
    const src = comments.find((l) => /^#\s*(repo|url):/.test(l)) ?? '';
    const path = comments.find((l) => /^#\s*path:/.test(l));
    const source = `${src.replace(/^#\s*/, '')}${path ? ` ${path.replace(/^#\s*/, '')}` : ''}`;
    const lines = body.split('\n').filter((l) => l.trim() !== '');
    const headers: ExampleHeader[] = [];
    for (const line of lines) {
      const m = /^(Security-Client|Security-Server|Security-Verify)\s*:(.*)$/.exec(line);
      if (m) headers.push({ name: m[1] as ExampleHeader['name'], value: m[2], line });
    }
    blocks.push({ title, source, lines, headers });
  }
  return blocks;
}

/** The example blocks; tests using them take `options` (skipped, or failed in CI, when the file is missing). */
export const secAgreeExamples: SharedFile<ExampleBlock[]> = sharedFile((b) => parseExamples(b.toString('utf8')), 'sec_agree_examples.txt');
