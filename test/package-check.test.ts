// The model package is checked at load against its own files: each case is a temporary copy of
// the shipped model (4-bit graph, tokenizer, manifest) with one thing broken, and must fail with
// an EngineError that names the file and the field.
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import nodeFs from 'node:fs'; // the module object itself, which the engine's reads go through (mockable)
import * as path from 'node:path';
import { mock, test } from 'node:test';
import { CompletionEngine } from '../src/engine/engine';
import { EngineError } from '../src/engine/errors';
import { checkLoadedModel, loadModelPackage } from '../src/engine/manifest';
import { SHIPPED_MODEL, tmpDir } from './helpers';

type Json = Record<string, any>;

/** A copy of the shipped model's 4-bit package, changed by `edit`, then removed again. */
async function withBrokenCopy(edit: (manifest: Json, dir: string) => void, use: (dir: string) => Promise<void>): Promise<void> {
  const dir = tmpDir('mod-package-');
  try {
    for (const f of ['manifest.json', 'model.q4.onnx', 'tokenizer.json']) fs.copyFileSync(path.join(SHIPPED_MODEL, f), path.join(dir, f));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Json;
    edit(manifest, dir);
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
    await use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function refused(...patterns: RegExp[]) {
  return (e: unknown) => {
    assert.ok(e instanceof EngineError, String(e));
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };
}

const load = (dir: string) => CompletionEngine.load({ modelDir: dir, provider: 'cpu' });

test('an untouched copy loads (the cases below differ from it in one field only)', async () => {
  await withBrokenCopy(() => {}, async (dir) => {
    const engine = await load(dir);
    assert.equal(engine.info.architecture.vocab_size, 4096);
    await engine.model.session.release();
  });
});

test('a wrong vocab_size names the graph and architecture.vocab_size', async () => {
  await withBrokenCopy((m) => (m.architecture.vocab_size = 5000), async (dir) => {
    await assert.rejects(load(dir), refused(/model\.q4\.onnx does not match architecture\.vocab_size in .*manifest\.json/, /says 5000, the graph's logits have 4096/));
  });
});

test('a tokenizer of another size names tokenizer.json and architecture.vocab_size', async () => {
  await withBrokenCopy((m, dir) => {
    // The first 500 tokens and the merges among them: a working tokenizer, only smaller.
    const file = path.join(dir, 'tokenizer.json');
    const tok = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
    const vocab = Object.fromEntries(Object.entries(tok.model.vocab as Record<string, number>).filter(([, id]) => id < 500));
    tok.model.vocab = vocab;
    tok.model.merges = (tok.model.merges as [string, string][]).filter(([a, b]) => a in vocab && b in vocab && a + b in vocab);
    const text = JSON.stringify(tok);
    fs.writeFileSync(file, text);
    m.files.tokenizer.bytes = Buffer.byteLength(text);
    m.files.tokenizer.sha256 = createHash('sha256').update(text).digest('hex');
  }, async (dir) => {
    await assert.rejects(load(dir), refused(/tokenizer\.json does not match architecture\.vocab_size in .*manifest\.json/, /has 500 tokens, the manifest and the graph 4096/));
  });
});

test('a wrong n_layer names the graph and architecture.n_layer', async () => {
  await withBrokenCopy((m) => (m.architecture.n_layer = 9), async (dir) => {
    await assert.rejects(load(dir), refused(/model\.q4\.onnx does not match architecture\.n_layer/, /says 9 blocks, the graph has 8 \(input 'past_k_8' is missing\)/));
  });
  // Fewer blocks than the routed ones need: caught before onnxruntime opens the graph.
  await withBrokenCopy((m) => (m.architecture.n_layer = 7), async (dir) => {
    assert.throws(() => loadModelPackage(dir), refused(/manifest\.json: architecture\.routed_blocks is \[1,3,5,7\]; .*below architecture\.n_layer \(7\)/));
  });
});

test('a graph without a block\'s cache input (past_k_6) is refused with the file and architecture.n_layer', async () => {
  const engine = await load(SHIPPED_MODEL);
  const { inputMetadata, outputMetadata } = engine.model.session;
  const inputs = inputMetadata.filter((v) => v.name !== 'past_k_6');
  assert.throws(() => checkLoadedModel(engine.pkg, { inputs, outputs: outputMetadata }, 4096),
    refused(/model\.q4\.onnx does not match architecture\.n_layer/, /the graph has 7 \(input 'past_k_6' is missing\)/));
  // The real graph and tokenizer pass.
  checkLoadedModel(engine.pkg, { inputs: inputMetadata, outputs: outputMetadata }, engine.tokenizer.vocabSize);
  await engine.model.session.release();
});

test('an unreadable manifest is reported as a permission error, not as bad JSON', async () => {
  await withBrokenCopy(() => {}, async (dir) => {
    const mpath = path.join(dir, 'manifest.json');
    // CI runs as root, where chmod 000 does not stop a read: make the read fail as it would for a user.
    const read = nodeFs.readFileSync;
    const m = mock.method(nodeFs, 'readFileSync', (file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
      if (file === mpath) throw Object.assign(new Error(`EACCES: permission denied, open '${mpath}'`), { code: 'EACCES' });
      return (read as (...a: unknown[]) => unknown)(file, ...rest);
    });
    try {
      assert.throws(() => loadModelPackage(dir), (e: unknown) => {
        refused(/Permission denied reading the model manifest .*manifest\.json/)(e);
        assert.doesNotMatch((e as Error).message, /JSON/);
        return true;
      });
    } finally {
      m.mock.restore();
    }
  });
});

test('a format version given as the string "1" is refused as a malformed field', async () => {
  await withBrokenCopy((m) => (m.formatVersion = '1'), async (dir) => {
    assert.throws(() => loadModelPackage(dir), refused(/manifest\.json: formatVersion is "1" \(string\); it must be a number/));
  });
});
