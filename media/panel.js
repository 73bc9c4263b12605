// Compute panel webview: renders the suggestion list and, for the selected suggestion, the grid
// of generated tokens x routed blocks. All text goes through textContent (no HTML injection).
(function () {
  const vscode = acquireVsCodeApi();
  let state = { records: [], session: undefined, engine: undefined };
  let selected = (vscode.getState() || {}).selected;

  const pct = (x) => (100 * x).toFixed(1) + '%';
  const flops = (x) => (x >= 1e9 ? (x / 1e9).toFixed(2) + ' G' : (x / 1e6).toFixed(1) + ' M');
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function renderSession() {
    const s = state.session;
    const box = document.getElementById('session');
    box.textContent = '';
    if (state.engine) box.append(el('span', 'engine', `${state.engine.model} · ${state.engine.precision} · ${state.engine.provider}`));
    if (s && s.suggestions) {
      box.append(el('span', 'total', `session: ${s.suggestions} suggestions, ${s.accepted} accepted, ${flops(s.flops)}FLOP run vs ${flops(s.denseFlops)}FLOP every block on — ${pct(s.computeSaved)} saved`));
    }
  }

  function renderList() {
    const body = document.querySelector('#suggestions tbody');
    body.textContent = '';
    document.getElementById('empty').hidden = state.records.length > 0;
    for (const r of state.records) {
      const tr = el('tr', 'suggestion' + (r.id === selected ? ' selected' : ''));
      tr.dataset.id = String(r.id);
      tr.tabIndex = 0;
      tr.append(
        el('td', 'time', new Date(r.time).toLocaleTimeString()),
        el('td', 'file', r.file),
        el('td', 'kind', r.kind),
        el('td', 'num', r.tokens),
        el('td', 'num', r.latencyMs.toFixed(0) + ' ms'),
        el('td', 'num', r.tokensPerSecond.toFixed(0)),
        el('td', 'num', `${flops(r.flops)} / ${flops(r.denseFlops)}`),
        el('td', 'num saved', pct(r.computeSaved)),
        el('td', 'accepted', r.accepted ? '✓' : ''),
      );
      const pick = () => {
        selected = r.id;
        vscode.setState({ selected });
        render();
      };
      tr.addEventListener('click', pick);
      tr.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && pick());
      body.append(tr);
    }
  }

  function renderDetail() {
    const box = document.getElementById('detail');
    box.textContent = '';
    const r = state.records.find((x) => x.id === selected) || state.records[0];
    if (!r) return;
    box.append(el('h2', '', `Where compute went — suggestion #${r.id} (${r.file})`));
    box.append(el('p', 'summary', `${r.tokens} tokens · ${flops(r.flops)}FLOP run vs ${flops(r.denseFlops)}FLOP with every block on · ${pct(r.computeSaved)} saved · ${r.kvEntriesSaved} KV cache entries not stored`));
    const grid = r.grid;
    if (grid && grid.ran.length) {
      const table = el('table', 'grid');
      const head = el('tr');
      head.append(el('th', '', 'token'));
      for (const b of grid.blocks) head.append(el('th', '', 'block ' + b));
      const changed = r.cache ? r.cache.changed : undefined;
      if (changed) head.append(el('th', '', 'cache'));
      table.append(head);
      grid.ran.forEach((row, t) => {
        const tr = el('tr');
        tr.append(el('td', 'tok', JSON.stringify(grid.tokens[t]).slice(1, -1)));
        row.forEach((ran, j) => {
          const td = el('td', ran ? 'cell ran' : 'cell skip', ran ? '●' : '');
          td.title = `block ${grid.blocks[j]} ${ran ? 'ran' : 'skipped'} for ${JSON.stringify(grid.tokens[t])}`;
          tr.append(td);
        });
        if (changed) {
          const td = el('td', changed[t] ? 'cell cached' : 'cell', changed[t] ? '◆' : '');
          td.title = changed[t] ? `the cache model changed the model's choice to ${JSON.stringify(grid.tokens[t])}` : 'the model\'s own choice';
          tr.append(td);
        }
        table.append(tr);
      });
      box.append(el('p', 'legend', 'Rows: generated tokens. Columns: routed blocks. ● the block ran for that token; empty: skipped (no FLOPs, no KV cache entry).' + (changed ? ' ◆ the cache model (n-gram counts over this file and the other open files) changed the model\'s choice.' : '')));
      box.append(table);
    }
    const totals = el('table', 'blocks');
    const h = el('tr');
    ['block', 'kind', 'ran for', 'of tokens', 'share'].forEach((t) => h.append(el('th', '', t)));
    totals.append(h);
    for (const b of r.perBlock) {
      const tr = el('tr', b.routed ? 'routed' : 'dense');
      tr.append(el('td', '', b.block), el('td', '', b.routed ? 'routed' : 'always on'), el('td', 'num', b.ran), el('td', 'num', b.tokens), el('td', 'num', pct(b.tokens ? b.ran / b.tokens : 0)));
      totals.append(tr);
    }
    box.append(el('h3', '', 'Per block (prompt and generation)'), totals);
  }

  function render() {
    renderSession();
    renderList();
    renderDetail();
  }

  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'state') {
      state = e.data;
      render();
    }
  });
  vscode.postMessage({ type: 'ready' });
})();
