// The extension's pure UI logic, without VS Code: snooze timing, the status bar text, the status
// menu's entries, the per-request log lines, and how a generated preview's span follows edits.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { minutesLeft, Snooze, type SnoozeStore } from '../src/extension/snooze';
import { type OffsetChange, trackSpan } from '../src/extension/tracked-span';
import { cancelledLine, decisionLine, menuEntries, type MenuState, type RequestFigures, requestLine, statusText } from '../src/extension/view-model';

const MIN = 60_000;

/** A Memento-like store over a Map, as context.globalState would be. */
function store(init: Record<string, unknown> = {}): SnoozeStore & { data: Map<string, unknown> } {
  const data = new Map(Object.entries(init));
  return {
    data,
    get: <T>(key: string) => data.get(key) as T | undefined,
    update: async (key: string, value: unknown) => {
      if (value === undefined) data.delete(key);
      else data.set(key, value);
    },
  };
}

test('minutes left round up, so a running snooze never shows 0m', () => {
  assert.equal(minutesLeft(1), 1);
  assert.equal(minutesLeft(MIN), 1);
  assert.equal(minutesLeft(MIN + 1), 2);
  assert.equal(minutesLeft(14 * MIN + 30_000), 15);
});

test('a snooze counts down once a minute, ends by itself and clears what it stored', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  let now = 1_000_000;
  const s = store();
  const snooze = new Snooze(s, () => now);
  const shown: number[] = [];
  snooze.onDidChange(() => shown.push(minutesLeft(snooze.remainingMs())));
  assert.equal(snooze.active, false);

  await snooze.snooze(5);
  assert.equal(s.data.get('modComplete.snoozedUntil'), 1_000_000 + 5 * MIN, 'the end is stored, for a reload');
  assert.equal(snooze.active, true);
  for (let i = 0; i < 5; i++) {
    now += MIN;
    mock.timers.tick(MIN);
  }
  assert.deepEqual(shown, [5, 4, 3, 2, 1, 0]);
  assert.equal(snooze.active, false);
  assert.equal(s.data.has('modComplete.snoozedUntil'), false);
  snooze.dispose();
});

test('a snooze survives a reload, an expired one is dropped, resume ends it at once', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const now = 50 * MIN;
  const kept = new Snooze(store({ 'modComplete.snoozedUntil': now + 14 * MIN + 1000 }), () => now);
  assert.equal(minutesLeft(kept.remainingMs()), 15);
  await kept.resume();
  assert.equal(kept.active, false);
  kept.dispose();

  const old = store({ 'modComplete.snoozedUntil': now - 1 });
  const expired = new Snooze(old, () => now);
  assert.equal(expired.active, false);
  assert.equal(old.data.has('modComplete.snoozedUntil'), false);
  expired.dispose();

  const junk = new Snooze(store({ 'modComplete.snoozedUntil': 'soon' }), () => now);
  assert.equal(junk.active, false, 'a stored value that is not a time is ignored');
  junk.dispose();
});

test('status text: whole percentage of compute saved, snoozed, off for a language, and the spinner first', () => {
  assert.equal(statusText({ status: 'ready', lastSaved: 0.362, snoozedMs: 0 }), '$(zap) MoD 36% compute saved');
  assert.equal(statusText({ status: 'ready', snoozedMs: 0 }), '$(zap) MoD ready');
  assert.equal(statusText({ status: 'ready', lastSaved: -0.011, snoozedMs: 0 }), '$(zap) MoD -1% compute saved', 'budget "full" costs a little');
  assert.equal(statusText({ status: 'ready', lastSaved: 0.36, snoozedMs: 13 * MIN + 5 }), '$(clock) MoD snoozed 14m');
  assert.equal(statusText({ status: 'ready', lastSaved: 0.36, snoozedMs: 0, languageOff: 'markdown' }), '$(circle-slash) MoD off for markdown');
  // Generate Code still runs while snoozed or in a language turned off (the UI test watches the spinner).
  assert.equal(statusText({ status: 'generating', lastSaved: 0.36, snoozedMs: MIN, languageOff: 'plaintext' }), '$(sync~spin) MoD 36% compute saved');
  assert.equal(statusText({ status: 'disabled', snoozedMs: MIN }), '$(circle-slash) MoD off');
  assert.equal(statusText({ status: 'loading', snoozedMs: 0 }), '$(loading~spin) MoD loading');
  assert.equal(statusText({ status: 'error', snoozedMs: 0 }), '$(error) MoD error');
  // What the UI test's status bar check needs to match.
  assert.match(statusText({ status: 'ready', lastSaved: 0.5, snoozedMs: 0 }), /\d+% compute saved/);
});

const MENU: MenuState = { enable: true, computeBudget: 'balanced', provider: 'auto', providerInUse: 'cpu', language: { id: 'python', enabled: true }, snoozedMs: 0 };

test('menu: disable or enable the active language, snooze options or resume', () => {
  const labels = menuEntries(MENU).map((e) => e.label);
  assert.deepEqual(labels, [
    '$(circle-slash) Disable completions',
    '$(circle-slash) Disable for python',
    '$(clock) Snooze for 5 minutes',
    '$(clock) Snooze for 15 minutes',
    '$(clock) Snooze for 60 minutes',
    '$(dashboard) Compute budget: balanced',
    '$(server-process) Provider: auto (in use: cpu)',
    '$(graph) Show compute panel',
    '$(refresh) Reload model',
    '$(output) Show log',
  ]);
  assert.deepEqual(menuEntries(MENU)[1].action, { kind: 'language', languageId: 'python', enable: false });
  assert.deepEqual(menuEntries(MENU).filter((e) => e.action.kind === 'snooze').map((e) => e.action), [5, 15, 60].map((minutes) => ({ kind: 'snooze', minutes })));

  const off = menuEntries({ ...MENU, enable: false, language: { id: 'markdown', enabled: false }, snoozedMs: 14 * MIN });
  assert.equal(off[0].label, '$(zap) Enable completions');
  assert.deepEqual(off[1], { label: '$(check) Enable for markdown', description: 'user settings', action: { kind: 'language', languageId: 'markdown', enable: true } });
  assert.deepEqual(off[2], { label: '$(play) Resume completions', description: 'snoozed, 14 min left', action: { kind: 'resume' } });
  assert.equal(off.filter((e) => e.action.kind === 'snooze').length, 0, 'no snooze options while snoozed');

  const noEditor = menuEntries({ ...MENU, language: undefined, providerInUse: undefined });
  assert.equal(noEditor.some((e) => e.action.kind === 'language'), false);
  assert.equal(noEditor.find((e) => e.action.kind === 'provider')?.label, '$(server-process) Provider: auto');
});

const FIGURES: RequestFigures = { mode: 'line', tokens: 17, queueMs: 3.2, timing: { totalMs: 81.6, reusedTokens: 280, promptTokens: 300 }, compute: { saved: 0.3624 } };

test('log lines: one per request with place, mode, tokens, queue + engine ms, compute saved and outcome; then the decision', () => {
  assert.equal(requestLine('src/a.ts:12:3', 'inline', 'shown', FIGURES, 7),
    'src/a.ts:12:3 inline line: shown #7, 17 tokens in 85 ms (queue 3 + engine 82), 36.2% compute saved, reused 280/300 prompt tokens');
  assert.equal(requestLine('src/a.ts:12:3', 'inline', 'empty', FIGURES),
    'src/a.ts:12:3 inline line: empty, 17 tokens in 85 ms (queue 3 + engine 82), 36.2% compute saved, reused 280/300 prompt tokens');
  assert.equal(requestLine('x.py:4:1', 'generate', 'generated', { ...FIGURES, mode: 'multiline' }, 9).split(',')[0], 'x.py:4:1 generate multiline: generated #9');
  assert.equal(cancelledLine('src/a.ts:12:3', 'inline', 40.4), 'src/a.ts:12:3 inline: cancelled after 40 ms');
  assert.equal(decisionLine({ file: 'src/a.ts', kind: 'inline', id: 7 }, 'accepted'), 'src/a.ts inline #7: accepted');
  assert.equal(decisionLine({ file: 'x.py', kind: 'generate', id: 9 }, 'discarded', 'removed from the document'), 'x.py generate #9: discarded (removed from the document)');
});

const change = (rangeOffset: number, rangeLength: number, text: string): OffsetChange => ({ rangeOffset, rangeLength, text });

test('a preview span follows edits around it and tells edits inside and removal apart', () => {
  const span = { start: 10, end: 20 };
  assert.deepEqual(trackSpan(span, [change(0, 0, 'abc')]), { kind: 'moved', span: { start: 13, end: 23 } }, 'typed before');
  assert.deepEqual(trackSpan(span, [change(2, 5, '')]), { kind: 'moved', span: { start: 5, end: 15 } }, 'deleted before');
  assert.deepEqual(trackSpan(span, [change(10, 0, 'x')]), { kind: 'moved', span: { start: 11, end: 21 } }, 'typed at its start stays outside');
  assert.deepEqual(trackSpan(span, [change(20, 0, '\n')]), { kind: 'moved', span }, 'typed at its end stays outside');
  assert.deepEqual(trackSpan(span, [change(25, 3, 'y')]), { kind: 'moved', span }, 'edited after');
  assert.deepEqual(trackSpan(span, [change(30, 0, 'z'), change(0, 1, '')]), { kind: 'moved', span: { start: 9, end: 19 } }, 'several changes apply in order');
  assert.deepEqual(trackSpan(span, [change(15, 0, 'q')]), { kind: 'edited' });
  assert.deepEqual(trackSpan(span, [change(8, 4, '')]), { kind: 'edited' }, 'a delete across its start');
  assert.deepEqual(trackSpan(span, [change(10, 10, '')]), { kind: 'removed' }, 'undo of the insertion');
  assert.deepEqual(trackSpan(span, [change(0, 40, 'other')]), { kind: 'removed' }, 'replaced with more around it');
});
