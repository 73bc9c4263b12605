// Compute panel webview: where compute went for the latest (or the selected) suggestion, the grid
// of generated tokens x routed blocks first (tokens coloured by kind, as the engine classified
// them), then the newest suggestions a page at a time, laid out in the part of the webview that
// is on screen. All text goes through textContent or title (no HTML injection); styles only
// through the stylesheet and CSSOM custom properties (no inline style attributes).
(function () {
  const vscode = acquireVsCodeApi();
  /** Rows per page of the list: enough for a session's recent work, few enough to render at once. */
  const PAGE = 50;
  /** A row shows the start of a suggestion; the detail above shows all of it. */
  const ROW_TEXT_CHARS = 160;
  let state = { records: [], session: undefined, engine: undefined };
  const saved = vscode.getState() || {};
  let selected = saved.selected;
  let limit = saved.limit || PAGE;
  let blocksOpen = !!saved.blocksOpen;
  const persist = () => vscode.setState({ selected, limit, blocksOpen });

  const pct = (x) => (100 * x).toFixed(1) + '%';
  const flops = (x) => (x >= 1e9 ? (x / 1e9).toFixed(2) + ' G' : (x / 1e6).toFixed(1) + ' M');
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  /** A stat as "value label", the value in its own element so that it can be styled (and found). */
  function stat(cls, value, label) {
    const s = el('span', 'stat');
    s.append(el('span', cls, value), ' ' + label);
    return s;
  }
  function oneLine(text) {
    const flat = text.replace(/\r?\n/g, ' ↵ ');
    return flat.length > ROW_TEXT_CHARS ? flat.slice(0, ROW_TEXT_CHARS) + '…' : flat;
  }
  /**
   * Scrolls the panel (its body is the scroll box, see panel.css) so that `e` starts at the top.
   * Not Element.scrollIntoView: that also scrolls every ancestor frame, and where VS Code lays
   * the editor group out wider than the window, it would shift VS Code's whole workbench sideways.
   */
  function scrollToTop(e) {
    const body = document.body;
    body.scrollTo({ top: body.scrollTop + e.getBoundingClientRect().top - body.getBoundingClientRect().top });
  }
  function pick(id) {
    selected = id;
    persist();
    render();
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
    const list = document.getElementById('suggestions');
    list.textContent = '';
    const records = state.records;
    document.getElementById('empty').hidden = records.length > 0;
    const shown = records.slice(0, limit);
    document.getElementById('list-title').textContent = records.length > shown.length ? `Suggestions (newest ${shown.length} of ${records.length})` : 'Suggestions';
    for (const r of shown) {
      const li = el('li', 'suggestion' + (r.id === selected ? ' selected' : ''));
      li.dataset.id = String(r.id);
      li.tabIndex = 0;
      li.setAttribute('role', 'button');
      const meta = el('div', 'meta');
      meta.append(el('span', 'time', new Date(r.time).toLocaleTimeString()), el('span', 'file', r.file), el('span', 'kind', r.kind));
      const text = el('div', r.text ? 'text' : 'text empty', r.text ? oneLine(r.text) : '(empty)');
      text.title = r.text;
      const stats = el('div', 'stats');
      stats.append(
        stat('saved', pct(r.computeSaved), 'saved'),
        el('span', r.accepted ? 'accepted yes' : 'accepted', r.accepted ? '✓ accepted' : 'not accepted'),
        stat('num', r.tokens, 'tokens'),
        stat('num', r.latencyMs.toFixed(0), 'ms'),
        stat('num', r.tokensPerSecond.toFixed(0), 'tok/s'),
        stat('num', `${flops(r.flops)} / ${flops(r.denseFlops)}`, 'FLOPs run / every block on'),
      );
      li.append(meta, text, stats);
      const choose = () => {
        pick(r.id);
        scrollToTop(document.getElementById('detail'));
      };
      li.addEventListener('click', choose);
      li.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && choose());
      list.append(li);
    }
    const more = document.getElementById('more');
    const rest = records.length - shown.length;
    more.hidden = rest <= 0;
    more.textContent = `Show ${Math.min(PAGE, rest)} more`;
  }

  function renderGrid(box, r) {
    const grid = r.grid;
    if (!grid || !grid.ran.length) return;
    const table = el('table', 'grid');
    const head = el('tr');
    head.append(el('th', '', 'token'));
    for (const b of grid.blocks) head.append(el('th', '', 'block ' + b));
    const changed = r.cache ? r.cache.changed : undefined;
    if (changed) head.append(el('th', '', 'cache'));
    table.append(head);
    grid.ran.forEach((row, t) => {
      const tr = el('tr');
      const tok = el('td', 'tok kind-' + grid.kinds[t], JSON.stringify(grid.tokens[t]).slice(1, -1));
      tok.title = `${grid.kinds[t]}: ${JSON.stringify(grid.tokens[t])}`;
      tr.append(tok);
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
    // The grid scrolls in its own box, so a long suggestion does not push the list out of reach;
    // it comes right after the suggestion's summary, its legends below it.
    const wrap = el('div', 'grid-wrap');
    wrap.append(table);
    box.append(wrap);
    box.append(kindLegend(grid));
    box.append(el('p', 'legend', 'Rows: generated tokens, coloured by kind. Columns: routed blocks. ● the block ran for that token; empty: skipped (no FLOPs, no KV cache entry).' + (changed ? ' ◆ the cache model (n-gram counts over this file and the other open files) changed the model\'s choice.' : '')));
  }

  /** The kinds among the suggestion's tokens, in order of first use: how many, and how often the routed blocks ran for them. */
  function kindLegend(grid) {
    const legend = el('p', 'kinds');
    for (const kind of new Set(grid.kinds)) {
      const rows = grid.ran.filter((_, t) => grid.kinds[t] === kind);
      const ran = rows.reduce((n, row) => n + row.filter((x) => x).length, 0) / (rows.length * grid.blocks.length);
      const item = el('span', 'kind kind-' + kind, `${kind} ×${rows.length}, ${pct(ran)} ran`);
      item.title = `${rows.length} ${kind} token${rows.length > 1 ? 's' : ''}: the routed blocks ran for ${pct(ran)} of their cells`;
      legend.append(item);
    }
    return legend;
  }

  function renderDetail() {
    const box = document.getElementById('detail');
    box.textContent = '';
    const latest = state.records[0];
    const r = state.records.find((x) => x.id === selected) || latest;
    if (!r) return;
    const title = el('h2', '', `${r === latest ? 'Latest suggestion' : 'Suggestion'} #${r.id} — ${r.file}`);
    if (r !== latest) {
      const back = el('button', 'latest', 'Show latest');
      back.type = 'button';
      back.addEventListener('click', () => pick(undefined));
      title.append(' ', back);
    }
    box.append(title);
    box.append(el('pre', r.text ? 'text' : 'text empty', r.text || '(empty)'));
    box.append(el('p', 'summary', `${r.tokens} tokens · ${flops(r.flops)}FLOP run vs ${flops(r.denseFlops)}FLOP with every block on · ${pct(r.computeSaved)} saved · ${r.kvEntriesSaved} KV cache entries not stored · ${r.accepted ? 'accepted' : 'not accepted'}`));
    renderGrid(box, r);
    const totals = el('table', 'blocks');
    const h = el('tr');
    ['block', 'kind', 'ran for', 'of tokens', 'share'].forEach((t) => h.append(el('th', '', t)));
    totals.append(h);
    for (const b of r.perBlock) {
      const tr = el('tr', b.routed ? 'routed' : 'dense');
      tr.append(el('td', '', b.block), el('td', '', b.routed ? 'routed' : 'always on'), el('td', 'num', b.ran), el('td', 'num', b.tokens), el('td', 'num', pct(b.tokens ? b.ran / b.tokens : 0)));
      totals.append(tr);
    }
    // Collapsed by default (the grid and the list matter more); every update re-renders, so the
    // open state is kept here.
    const blocks = el('details', 'per-block');
    blocks.open = blocksOpen;
    blocks.addEventListener('toggle', () => {
      blocksOpen = blocks.open;
      persist();
    });
    blocks.append(el('summary', '', 'Per block (prompt and generation)'), totals);
    box.append(blocks);
  }

  function render() {
    renderSession();
    renderDetail();
    renderList();
  }

  /**
   * VS Code lays an editor group out 220 px wide at least: in a window too narrow for the side
   * bar and two groups (e.g. 600 px), the panel's group runs past the window's edge and VS Code
   * clips the webview to what is on screen, so the page's right part (and its scroll bar) would
   * lie under the clip. An IntersectionObserver with the implicit root (the window's viewport,
   * through every ancestor frame's clip) sees the visible part of a probe as wide as the page;
   * the page is then laid out in that part (--visible-left / --visible-width, panel.css).
   */
  function fitVisiblePart() {
    const probe = el('div', 'visible-probe');
    probe.setAttribute('aria-hidden', 'true');
    document.documentElement.append(probe);
    const root = document.body.style;
    const thresholds = Array.from({ length: 201 }, (_, i) => i / 200);
    new IntersectionObserver((entries) => {
      const e = entries[entries.length - 1];
      const full = e.boundingClientRect.width;
      const seen = e.intersectionRect.width;
      // Nothing seen: the panel is hidden (another tab in front), keep the layout as it is.
      if (!e.isIntersecting || seen <= 0) return;
      if (seen < full - 1) {
        root.setProperty('--visible-left', `${Math.max(0, e.intersectionRect.left - e.boundingClientRect.left)}px`);
        root.setProperty('--visible-width', `${Math.floor(seen)}px`);
      } else {
        root.removeProperty('--visible-left');
        root.removeProperty('--visible-width');
      }
    }, { threshold: thresholds }).observe(probe);
  }

  fitVisiblePart();
  document.getElementById('more').addEventListener('click', () => {
    limit += PAGE;
    persist();
    renderList();
  });
  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'state') {
      state = e.data;
      render();
    }
  });
  vscode.postMessage({ type: 'ready' });
})();
