import * as fs from 'node:fs';
import * as readline from 'node:readline';
import type { CorpusDoc } from './build';

export async function* readDocs(file: string): AsyncGenerator<CorpusDoc> {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line) yield JSON.parse(line) as CorpusDoc;
}
