// The compute panel: where compute went for the latest (or the selected) suggestion (generated
// tokens x routed blocks) above a bounded list of recent suggestions with their text and
// accounting. A webview with a strict Content-Security-Policy (nonce'd script, no network) and
// theme colours; the layout stacks so that it fits a split editor, and keeps to the part of the
// webview on screen where VS Code clips an editor group at the window's edge (media/panel.js).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EngineHost } from './engine-host';
import type { SuggestionHistory } from './history';

export class ComputePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly extensionUri: vscode.Uri, private readonly host: EngineHost, private readonly history: SuggestionHistory) {
    this.subs = [history.onDidChange(() => this.post()), host.onDidChange(() => this.post())];
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const p = vscode.window.createWebviewPanel('modComplete.compute', 'MoD Complete: Compute', vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [media],
      retainContextWhenHidden: true,
    });
    const nonce = randomBytes(16).toString('base64');
    const csp = `default-src 'none'; style-src ${p.webview.cspSource}; script-src 'nonce-${nonce}'; img-src ${p.webview.cspSource};`;
    const css = p.webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.css'));
    const js = p.webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.js'));
    p.webview.html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}"><title>MoD Complete: Compute</title></head>
<body>
<header><h1>MoD Complete — compute</h1><div id="session"></div></header>
<section id="detail"></section>
<section><h2 id="list-title">Suggestions</h2><ol id="suggestions"></ol>
<p id="empty">No suggestions yet: type in an editor, or run “MoD Complete: Generate Code”.</p>
<button id="more" type="button" hidden></button></section>
<script nonce="${nonce}" src="${js}"></script>
</body></html>`;
    p.webview.onDidReceiveMessage((m) => m?.type === 'ready' && this.post());
    p.onDidDispose(() => (this.panel = undefined));
    this.panel = p;
  }

  private post(): void {
    if (!this.panel) return;
    const info = this.host.info;
    void this.panel.webview.postMessage({
      type: 'state',
      records: this.history.list(),
      session: this.history.session(),
      engine: info ? { model: info.model, provider: info.provider, precision: info.precision, routedBlocks: info.architecture.routed_blocks, blocks: info.architecture.n_layer } : undefined,
      status: this.host.status,
    });
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
    this.panel?.dispose();
  }
}
