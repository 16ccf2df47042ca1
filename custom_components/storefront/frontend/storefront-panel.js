// The Storefront panel: draw a node's layout (zones, counting lines, displays, shelves with
// product areas) on its latest anonymised snapshot and send it to the node.
// A plain web component (no build step); it talks to the integration's websocket commands
// storefront/layout/get, storefront/layout/set and storefront/snapshot/request only.

const KINDS = {
  zones: { label: "Zone", colour: "#03a9f4" },
  lines: { label: "Line", colour: "#ff9800" },
  displays: { label: "Display", colour: "#9c27b0" },
  shelves: { label: "Shelf", colour: "#4caf50" },
  products: { label: "Product area", colour: "#cddc39" },
};
const WIDTH = 1000; // SVG units across the image; y is scaled to the snapshot's aspect ratio
const ID_RULE = /^[a-z0-9_-]{1,32}$/;

const STYLE = `
  :host { display: block; padding: 16px; font-family: var(--paper-font-body1_-_font-family, sans-serif);
          color: var(--primary-text-color); background: var(--primary-background-color); min-height: 100vh; box-sizing: border-box; }
  header { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 12px; }
  h1 { font-size: 20px; margin: 0 16px 0 0; font-weight: 400; }
  button, select, input { font: inherit; padding: 6px 10px; border-radius: 4px;
          border: 1px solid var(--divider-color, #ccc); background: var(--card-background-color, #fff); color: inherit; }
  button.primary { background: var(--primary-color, #03a9f4); color: #fff; border: none; }
  button:disabled { opacity: 0.5; }
  .main { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
  .stage { position: relative; flex: 1 1 640px; max-width: 1000px; background: #222; touch-action: none; }
  .stage img { display: block; width: 100%; user-select: none; -webkit-user-drag: none; }
  .stage svg { position: absolute; inset: 0; width: 100%; height: 100%; }
  .empty { color: #ddd; padding: 48px; text-align: center; }
  [hidden] { display: none !important; }
  aside { flex: 0 1 300px; display: flex; flex-direction: column; gap: 8px; }
  .item { padding: 6px 8px; border-radius: 4px; cursor: pointer; border-left: 4px solid; }
  .item.selected { background: var(--secondary-background-color, #eee); }
  .status { min-height: 1.4em; }
  .status.error { color: var(--error-color, #db4437); white-space: pre-wrap; }
  .status.ok { color: var(--success-color, #43a047); }
  label { display: flex; gap: 6px; align-items: center; }
  .hint { font-size: 13px; opacity: 0.8; }
`;

class StorefrontPanel extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._nodes = [];
    this._node = null; // {entry_id, node_id}
    this._layout = null;
    this._snapshot = null;
    this._selected = null; // {kind, index, product?}
    this._drawing = null; // {kind, points, shelf?}
    this._drag = null;
    this._aspect = 0.75;
    this._status = { text: "", kind: "" };
    this._started = false;
  }

  set hass(hass) {
    this._hass = hass;
    if (!this._started) {
      this._started = true;
      this._renderShell();
      this._load(null);
    }
  }

  get hass() {
    return this._hass;
  }

  // --- talking to Home Assistant ------------------------------------------------------------

  async _call(message) {
    try {
      return await this._hass.callWS(message);
    } catch (err) {
      this._say(err && err.message ? err.message : String(err), "error");
      return null;
    }
  }

  async _load(node) {
    const message = { type: "storefront/layout/get", ...(node || {}) };
    const result = await this._call(message);
    if (!result) return;
    this._nodes = result.nodes;
    this._node = result.node_id ? { entry_id: result.entry_id, node_id: result.node_id } : null;
    this._layout = result.layout;
    this._snapshot = result.snapshot;
    this._selected = null;
    this._drawing = null;
    this._render();
  }

  async _requestSnapshot() {
    this._say("Asking the node for a snapshot…", "");
    const result = await this._call({ type: "storefront/snapshot/request", ...this._node });
    if (!result) return;
    this._snapshot = result.snapshot;
    this._say("Snapshot updated.", "ok");
    this._render();
  }

  async _save() {
    this._say("Sending the layout to the node…", "");
    const result = await this._call({
      type: "storefront/layout/set",
      ...this._node,
      layout: this._layout,
    });
    if (!result) return;
    this._layout = result.layout;
    this._say("Saved: the node runs the new layout.", "ok");
    this._render();
  }

  _say(text, kind) {
    this._status = { text, kind };
    const status = this.shadowRoot.querySelector(".status");
    if (status) {
      status.textContent = text;
      status.className = `status ${kind}`;
    }
  }

  // --- editing -------------------------------------------------------------------------------

  _items(kind, shelf) {
    if (kind === "products") return this._layout.shelves[shelf].products;
    return this._layout[kind];
  }

  _freshId(kind, name, shelf) {
    const base = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 28) || kind;
    const taken = new Set(this._items(kind, shelf).map((item) => item.id));
    let id = base;
    for (let n = 2; taken.has(id); n += 1) id = `${base}_${n}`;
    return id;
  }

  _startDrawing(kind) {
    const shelf = kind === "products" && this._selected ? this._selected.index : undefined;
    this._drawing = { kind, points: [], shelf };
    this._selected = null;
    this._say(
      kind === "lines"
        ? "Click the line's two ends."
        : "Click each corner; click the first corner again (or Finish) to close the shape.",
      ""
    );
    this._render();
  }

  _addPoint(point) {
    const drawing = this._drawing;
    if (drawing.kind !== "lines" && drawing.points.length >= 3 && this._near(point, drawing.points[0])) {
      this._finishDrawing();
      return;
    }
    drawing.points.push(point);
    if (drawing.kind === "lines" && drawing.points.length === 2) this._finishDrawing();
    else this._render();
  }

  _finishDrawing() {
    const { kind, points, shelf } = this._drawing;
    const needed = kind === "lines" ? 2 : 3;
    if (points.length < needed) {
      this._say(`A ${KINDS[kind].label.toLowerCase()} needs ${needed} points.`, "error");
      return;
    }
    const items = this._items(kind, shelf);
    const name = `${KINDS[kind].label} ${items.length + 1}`;
    const item = { id: this._freshId(kind, name, shelf), name };
    if (kind === "lines") Object.assign(item, { start: points[0], end: points[1], entrance: true });
    else if (kind === "products") item.area = points;
    else item.polygon = points;
    if (kind === "shelves") item.products = [];
    items.push(item);
    this._drawing = null;
    this._selected = { kind, index: items.length - 1, shelf };
    this._say("Drawn. Rename it, then Save to send it to the node.", "");
    this._render();
  }

  _selectedItem() {
    const s = this._selected;
    return s ? this._items(s.kind, s.shelf)[s.index] : null;
  }

  _delete() {
    const s = this._selected;
    this._items(s.kind, s.shelf).splice(s.index, 1);
    this._selected = null;
    this._render();
  }

  _flip() {
    const line = this._selectedItem();
    [line.start, line.end] = [line.end, line.start];
    this._render();
  }

  // --- geometry ------------------------------------------------------------------------------

  _toUnit(event) {
    const rect = this.shadowRoot.querySelector("svg").getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    const round = (v) => Math.round(v * 10000) / 10000;
    return [round(clamp((event.clientX - rect.left) / rect.width)), round(clamp((event.clientY - rect.top) / rect.height))];
  }

  _near(a, b) {
    return Math.hypot(a[0] - b[0], (a[1] - b[1]) * this._aspect) < 0.02;
  }

  _svgPoint([x, y]) {
    return `${x * WIDTH},${y * WIDTH * this._aspect}`;
  }

  _pointsOf(item, kind) {
    if (kind === "lines") return [item.start, item.end];
    return kind === "products" ? item.area : item.polygon;
  }

  _setPoint(item, kind, index, point) {
    if (kind === "lines") item[index === 0 ? "start" : "end"] = point;
    else this._pointsOf(item, kind)[index] = point;
  }

  _moveBy(item, kind, from, dx, dy) {
    const clamp = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
    from.forEach((p, i) => this._setPoint(item, kind, i, [clamp(p[0] + dx), clamp(p[1] + dy)]));
  }

  // --- pointer input (mouse, pen and finger alike) -------------------------------------------

  _onPointerDown(event) {
    const point = this._toUnit(event);
    if (this._drawing) {
      event.preventDefault();
      this._addPoint(point);
      return;
    }
    const target = event.target.closest("[data-kind]");
    if (!target) {
      this._selected = null;
      this._render();
      return;
    }
    const kind = target.dataset.kind;
    const index = Number(target.dataset.index);
    const shelf = target.dataset.shelf === undefined ? undefined : Number(target.dataset.shelf);
    this._selected = { kind, index, shelf };
    const item = this._selectedItem();
    const vertex = target.dataset.vertex === undefined ? null : Number(target.dataset.vertex);
    const start = this._pointsOf(item, kind).map((p) => [...p]);
    this._drag = { kind, item, vertex, origin: point, start };
    this.shadowRoot.querySelector("svg").setPointerCapture(event.pointerId);
    event.preventDefault();
    this._render();
  }

  _onPointerMove(event) {
    if (!this._drag) return;
    const point = this._toUnit(event);
    const { kind, item, vertex, origin, start } = this._drag;
    if (vertex !== null) this._setPoint(item, kind, vertex, point);
    else this._moveBy(item, kind, start, point[0] - origin[0], point[1] - origin[1]);
    this._drawShapes();
  }

  _onPointerUp() {
    if (this._drag) {
      this._drag = null;
      this._render();
    }
  }

  // --- rendering -----------------------------------------------------------------------------

  _renderShell() {
    this.shadowRoot.innerHTML = `<style>${STYLE}</style>
      <header>
        <h1>Storefront layout</h1>
        <select data-testid="node" aria-label="Node"></select>
        <button data-testid="snapshot">Request snapshot</button>
        <button data-add="zones" data-testid="add-zone">Add zone</button>
        <button data-add="lines" data-testid="add-line">Add line</button>
        <button data-add="displays" data-testid="add-display">Add display</button>
        <button data-add="shelves" data-testid="add-shelf">Add shelf</button>
        <button data-add="products" data-testid="add-product">Add product area</button>
        <button data-testid="finish">Finish shape</button>
        <button class="primary" data-testid="save">Save to node</button>
      </header>
      <div class="status" data-testid="status" role="status"></div>
      <div class="main">
        <div class="stage"><img alt="Latest anonymised snapshot" /><div class="empty"></div>
          <svg data-testid="canvas" preserveAspectRatio="none"></svg></div>
        <aside><div class="editor"></div><div class="list"></div>
          <p class="hint">Drag a shape to move it, a corner to reshape it. The arrow on a line points
          the way that counts as <b>in</b>.</p></aside>
      </div>`;
    const root = this.shadowRoot;
    root.querySelector("[data-testid=node]").addEventListener("change", (e) => {
      const [entry_id, node_id] = e.target.value.split("/");
      this._load({ entry_id, node_id });
    });
    root.querySelector("[data-testid=snapshot]").addEventListener("click", () => this._requestSnapshot());
    root.querySelector("[data-testid=save]").addEventListener("click", () => this._save());
    root.querySelector("[data-testid=finish]").addEventListener("click", () => this._drawing && this._finishDrawing());
    root.querySelectorAll("[data-add]").forEach((b) => b.addEventListener("click", () => this._startDrawing(b.dataset.add)));
    const svg = root.querySelector("svg");
    svg.addEventListener("pointerdown", (e) => this._onPointerDown(e));
    svg.addEventListener("pointermove", (e) => this._onPointerMove(e));
    svg.addEventListener("pointerup", () => this._onPointerUp());
    svg.addEventListener("pointercancel", () => this._onPointerUp());
  }

  _render() {
    const root = this.shadowRoot;
    const select = root.querySelector("[data-testid=node]");
    select.innerHTML = "";
    for (const node of this._nodes) {
      const option = document.createElement("option");
      option.value = `${node.entry_id}/${node.node_id}`;
      option.textContent = node.online ? node.name : `${node.name} (offline)`;
      option.selected = Boolean(this._node) && node.node_id === this._node.node_id && node.entry_id === this._node.entry_id;
      select.append(option);
    }
    const ready = Boolean(this._layout);
    root.querySelectorAll("header button").forEach((b) => (b.disabled = !ready));
    const shelfSelected = this._selected && this._selected.kind === "shelves";
    root.querySelector("[data-testid=add-product]").disabled = !ready || !shelfSelected || !this._layout.shelves;
    root.querySelector("[data-testid=add-shelf]").disabled = !ready || !this._layout.shelves;
    root.querySelector("[data-testid=finish]").disabled = !this._drawing;
    const img = root.querySelector("img");
    const empty = root.querySelector(".empty");
    if (this._snapshot) {
      img.src = `data:${this._snapshot.content_type};base64,${this._snapshot.image}`;
      img.hidden = false;
      empty.hidden = true; // the drawing sits on the picture alone
      this._aspect = this._snapshot.height / this._snapshot.width;
    } else {
      img.hidden = true;
      empty.hidden = false;
      empty.textContent = this._nodes.length
        ? "No snapshot yet: press “Request snapshot”."
        : "No Storefront node has described itself yet.";
    }
    root.querySelector("svg").setAttribute("viewBox", `0 0 ${WIDTH} ${WIDTH * this._aspect}`);
    root.querySelector(".stage").style.aspectRatio = `${1 / this._aspect}`;
    this._say(this._status.text, this._status.kind);
    this._drawShapes();
    this._drawList();
    this._drawEditor();
  }

  _drawShapes() {
    const svg = this.shadowRoot.querySelector("svg");
    if (!this._layout) {
      svg.innerHTML = "";
      return;
    }
    const parts = [
      `<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" fill="#ff9800"/></marker></defs>`,
    ];
    for (const kind of ["zones", "displays", "shelves", "lines"]) {
      (this._layout[kind] || []).forEach((item, index) => {
        parts.push(this._shape(kind, item, index));
        if (kind === "shelves") {
          // A product the node describes without its area (drawn in the YAML) is listed only.
          (item.products || []).forEach((product, p) => product.area && parts.push(this._shape("products", product, p, index)));
        }
      });
    }
    if (this._drawing) {
      const pts = this._drawing.points.map((p) => this._svgPoint(p)).join(" ");
      parts.push(`<polyline points="${pts}" fill="none" stroke="#fff" stroke-width="3" stroke-dasharray="8 6"/>`);
      this._drawing.points.forEach((p) => parts.push(this._handle(p, "#fff")));
    }
    svg.innerHTML = parts.join("");
  }

  _shape(kind, item, index, shelf) {
    const colour = KINDS[kind].colour;
    const s = this._selected;
    const selected = s && s.kind === kind && s.index === index && s.shelf === shelf;
    const data = `data-kind="${kind}" data-index="${index}"${shelf === undefined ? "" : ` data-shelf="${shelf}"`}`;
    const width = selected ? 5 : 3;
    const out = [];
    if (kind === "lines") {
      out.push(`<line ${data} x1="${item.start[0] * WIDTH}" y1="${item.start[1] * WIDTH * this._aspect}"
        x2="${item.end[0] * WIDTH}" y2="${item.end[1] * WIDTH * this._aspect}" stroke="${colour}"
        stroke-width="${width + 6}" stroke-opacity="0.01" data-testid="shape-${item.id}"/>`);
      out.push(`<line x1="${item.start[0] * WIDTH}" y1="${item.start[1] * WIDTH * this._aspect}"
        x2="${item.end[0] * WIDTH}" y2="${item.end[1] * WIDTH * this._aspect}" stroke="${colour}"
        stroke-width="${width}" ${item.entrance ? "" : 'stroke-dasharray="12 8"'} pointer-events="none"/>`);
      out.push(this._inArrow(item));
    } else {
      const pts = this._pointsOf(item, kind).map((p) => this._svgPoint(p)).join(" ");
      out.push(`<polygon ${data} points="${pts}" fill="${colour}" fill-opacity="${selected ? 0.35 : 0.2}"
        stroke="${colour}" stroke-width="${width}" data-testid="shape-${item.id}"/>`);
    }
    const first = this._pointsOf(item, kind)[0];
    out.push(`<text x="${first[0] * WIDTH + 6}" y="${first[1] * WIDTH * this._aspect - 6}" fill="#fff"
      font-size="22" stroke="#000" stroke-width="0.6" pointer-events="none">${escapeHtml(item.name)}</text>`);
    if (selected) {
      this._pointsOf(item, kind).forEach((p, v) => out.push(this._handle(p, colour, `${data} data-vertex="${v}"`)));
    }
    return out.join("");
  }

  _inArrow(line) {
    // `in` is the side where s = (x2-x1)(y-y1) - (y2-y1)(x-x1) grows: the normal (-dy, dx).
    const [x1, y1] = [line.start[0] * WIDTH, line.start[1] * WIDTH * this._aspect];
    const [x2, y2] = [line.end[0] * WIDTH, line.end[1] * WIDTH * this._aspect];
    const length = Math.hypot(x2 - x1, y2 - y1) || 1;
    const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
    const [nx, ny] = [(-(y2 - y1) / length) * 40, ((x2 - x1) / length) * 40];
    return `<line x1="${mx - nx}" y1="${my - ny}" x2="${mx + nx}" y2="${my + ny}" stroke="#ff9800"
      stroke-width="4" marker-end="url(#arrow)" pointer-events="none"/>
      <text x="${mx + nx * 1.4}" y="${my + ny * 1.4}" fill="#ff9800" font-size="22" stroke="#000"
      stroke-width="0.6" text-anchor="middle" pointer-events="none">in</text>`;
  }

  _handle(point, colour, data = "") {
    const [x, y] = [point[0] * WIDTH, point[1] * WIDTH * this._aspect];
    return `<circle ${data} cx="${x}" cy="${y}" r="10" fill="${colour}" stroke="#fff" stroke-width="2"/>`;
  }

  _drawList() {
    const list = this.shadowRoot.querySelector(".list");
    list.innerHTML = "";
    if (!this._layout) return;
    for (const kind of ["zones", "lines", "displays", "shelves"]) {
      (this._layout[kind] || []).forEach((item, index) => {
        list.append(this._listEntry(kind, item, index));
        if (kind === "shelves") {
          (item.products || []).forEach((product, p) => list.append(this._listEntry("products", product, p, index)));
        }
      });
    }
  }

  _listEntry(kind, item, index, shelf) {
    const entry = document.createElement("div");
    const s = this._selected;
    const selected = s && s.kind === kind && s.index === index && s.shelf === shelf;
    entry.className = `item${selected ? " selected" : ""}`;
    entry.style.borderColor = KINDS[kind].colour;
    entry.style.marginLeft = kind === "products" ? "16px" : "0";
    entry.textContent = `${KINDS[kind].label}: ${item.name} (${item.id})`;
    entry.dataset.testid = `item-${item.id}`;
    entry.addEventListener("click", () => {
      this._selected = { kind, index, shelf };
      this._render();
    });
    return entry;
  }

  _drawEditor() {
    const editor = this.shadowRoot.querySelector(".editor");
    editor.innerHTML = "";
    const item = this._selectedItem();
    if (!item) return;
    const kind = this._selected.kind;
    const field = (label, value, testid, onChange) => {
      const row = document.createElement("label");
      row.textContent = label;
      const input = document.createElement("input");
      input.value = value;
      input.dataset.testid = testid;
      input.addEventListener("change", () => onChange(input.value.trim()));
      row.append(input);
      editor.append(row);
    };
    field("Name", item.name, "name", (value) => {
      item.name = value;
      this._render();
    });
    field("Id", item.id, "id", (value) => {
      if (!ID_RULE.test(value)) {
        this._say("An id is 1-32 characters of a-z, 0-9, _ and -.", "error");
        return;
      }
      item.id = value;
      this._render();
    });
    if (kind === "lines") {
      const flip = document.createElement("button");
      flip.textContent = "Flip direction";
      flip.dataset.testid = "flip";
      flip.addEventListener("click", () => this._flip());
      const entrance = document.createElement("label");
      entrance.innerHTML = `<input type="checkbox" data-testid="entrance" ${item.entrance ? "checked" : ""}/> Entrance (footfall)`;
      entrance.querySelector("input").addEventListener("change", (e) => {
        item.entrance = e.target.checked;
        this._render();
      });
      editor.append(flip, entrance);
    }
    const remove = document.createElement("button");
    remove.textContent = "Delete";
    remove.dataset.testid = "delete";
    remove.addEventListener("click", () => this._delete());
    editor.append(remove);
  }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

customElements.define("storefront-panel", StorefrontPanel);
