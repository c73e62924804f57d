// nbtrack run table: the browser half of nbtrack.ui.table.RunTable (an anywidget ES module).
// Every user string is set with textContent, never as HTML.

const BASE = [
  { name: "seq", label: "#" },
  { name: "name", label: "name" },
  { name: "experiment", label: "experiment" },
  { name: "status", label: "status" },
  { name: "start_time", label: "started" },
  { name: "duration", label: "duration" },
];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

export function relativeTime(seconds, now = Date.now() / 1000) {
  const ago = Math.max(0, now - seconds);
  if (ago < 45) return "just now";
  if (ago < 90) return "1 min ago";
  if (ago < 3600) return `${Math.round(ago / 60)} min ago`;
  if (ago < 5400) return "1 hour ago";
  if (ago < 86400) return `${Math.round(ago / 3600)} hours ago`;
  if (ago < 172800) return "yesterday";
  if (ago < 30 * 86400) return `${Math.round(ago / 86400)} days ago`;
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

export function formatDuration(seconds) {
  if (seconds == null) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function formatValue(value) {
  if (value == null) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    const abs = Math.abs(value);
    return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function render({ model, el: root }) {
  const state = { confirming: null };
  const container = el("div", { class: "nbtrack-table" });
  root.append(container);

  // -- toolbar: filter, differs toggle, columns, count ------------------------------------------
  const filterInput = el("input", {
    class: "nbt-filter",
    type: "text",
    spellcheck: "false",
    placeholder: "filter, e.g.  metrics.loss < 0.3 and params.lr = 0.01",
  });
  filterInput.value = model.get("filter");
  const apply = () => {
    model.set("filter", filterInput.value);
    model.save_changes();
  };
  filterInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") apply();
    event.stopPropagation(); // keep JupyterLab's notebook shortcuts out of the text box
  });
  const differs = el("input", { type: "checkbox", class: "nbt-differs" });
  differs.addEventListener("change", () => {
    model.set("differs_only", differs.checked);
    model.set("page", 0);
    model.save_changes();
  });
  const chooser = el("details", { class: "nbt-columns" }, el("summary", { text: "Columns" }));
  const chooserBody = el("div", { class: "nbt-columns-body" });
  chooser.append(chooserBody);
  const count = el("span", { class: "nbt-count" });
  const refresh = el("button", { class: "nbt-refresh", title: "read the store again", text: "↻" });
  refresh.addEventListener("click", () => model.send({ action: "refresh" }));
  const toolbar = el(
    "div",
    { class: "nbt-toolbar" },
    filterInput,
    el("button", { class: "nbt-apply", text: "Filter", onclick: apply }),
    el("label", { class: "nbt-differs-label" }, differs, " only what differs"),
    chooser,
    refresh,
    count,
  );
  const filterError = el("div", { class: "nbt-error", role: "alert" });

  // -- actions ------------------------------------------------------------------------------------
  const tagInput = el("input", { class: "nbt-tag-input", type: "text", placeholder: "key=value" });
  const noteInput = el("input", { class: "nbt-note-input", type: "text", placeholder: "note" });
  for (const input of [tagInput, noteInput]) input.addEventListener("keydown", (e) => e.stopPropagation());
  const selected = () => [...model.get("selected")];
  const send = (action, extra = {}) => model.send({ action, runs: selected(), ...extra });
  const confirmBox = el("span", { class: "nbt-confirm", hidden: "" });
  const actions = el(
    "div",
    { class: "nbt-actions" },
    el("span", { class: "nbt-selected-count" }),
    el("button", { class: "nbt-compare", text: "Compare", onclick: () => send("compare") }),
    tagInput,
    el("button", { class: "nbt-tag", text: "Tag", onclick: () => send("tag", { text: tagInput.value }) }),
    noteInput,
    el("button", { class: "nbt-note", text: "Note", onclick: () => send("note", { text: noteInput.value }) }),
    el("button", { class: "nbt-restore", text: "Restore", onclick: () => send("restore") }),
    el("button", {
      class: "nbt-delete",
      text: "Delete",
      onclick: () => {
        state.confirming = selected();
        drawConfirm();
      },
    }),
    confirmBox,
  );
  const message = el("div", { class: "nbt-message", role: "status" });
  const restored = el("div", { class: "nbt-restored", hidden: "" });

  // -- the table itself ----------------------------------------------------------------------------
  const table = el("table", { class: "nbt-grid" });
  const thead = el("thead");
  const tbody = el("tbody");
  table.append(thead, tbody);
  const scroller = el("div", { class: "nbt-scroll" }, table);
  const pager = el("div", { class: "nbt-pager" });
  container.append(toolbar, filterError, actions, message, restored, scroller, pager);

  function drawConfirm() {
    confirmBox.replaceChildren();
    const runs = state.confirming;
    if (!runs || runs.length === 0) {
      confirmBox.hidden = true;
      if (runs) {
        message.textContent = "select the runs to delete first";
        state.confirming = null;
      }
      return;
    }
    confirmBox.hidden = false;
    const seqs = model
      .get("rows")
      .filter((r) => runs.includes(r.run_id))
      .map((r) => `#${r.seq}`);
    const label = seqs.length === runs.length ? seqs.join(", ") : `${runs.length} runs`;
    confirmBox.append(
      el("span", { text: `Delete ${label} for good? ` }),
      el("button", {
        class: "nbt-confirm-yes",
        text: "Delete",
        onclick: () => {
          model.send({ action: "delete", runs, confirmed: true });
          state.confirming = null;
          drawConfirm();
        },
      }),
      el("button", {
        class: "nbt-confirm-no",
        text: "Cancel",
        onclick: () => {
          state.confirming = null;
          drawConfirm();
        },
      }),
    );
  }

  function toggle(runId, on) {
    const now = new Set(model.get("selected"));
    if (on) now.add(runId);
    else now.delete(runId);
    model.set("selected", [...now]);
    model.save_changes();
  }

  function columnsShown() {
    const byName = new Map(model.get("columns").map((c) => [c.name, c]));
    return model.get("shown").map((name) => byName.get(name) || { name, kind: "", key: name });
  }

  function drawHead() {
    const sort = model.get("sort");
    const rows = model.get("rows");
    const chosen = new Set(model.get("selected"));
    const all = el("input", { type: "checkbox", class: "nbt-select-page", title: "select this page" });
    all.checked = rows.length > 0 && rows.every((r) => chosen.has(r.run_id));
    all.addEventListener("change", () => {
      const now = new Set(model.get("selected"));
      for (const r of rows) all.checked ? now.add(r.run_id) : now.delete(r.run_id);
      model.set("selected", [...now]);
      model.save_changes();
    });
    const cells = [el("th", { class: "nbt-check" }, all)];
    const header = (name, label, kind) => {
      const arrow = sort.column === name ? (sort.descending ? " ▼" : " ▲") : "";
      const th = el("th", { class: `nbt-sortable nbt-kind-${kind}`, "data-column": name, title: `sort by ${name}` });
      if (kind && kind !== "base") th.append(el("span", { class: "nbt-kind", text: kind.slice(0, 1) }));
      th.append(el("span", { text: label + arrow }));
      th.addEventListener("click", () => {
        const descending = sort.column === name ? !sort.descending : kind === "metrics" ? false : true;
        model.set("sort", { column: name, descending });
        model.save_changes();
      });
      return th;
    };
    for (const b of BASE) cells.push(header(b.name, b.label, "base"));
    for (const c of columnsShown()) cells.push(header(c.name, c.key, c.kind));
    thead.replaceChildren(el("tr", {}, ...cells));
  }

  function drawRows() {
    const chosen = new Set(model.get("selected"));
    const shown = columnsShown();
    const now = Date.now() / 1000;
    const rows = model.get("rows").map((r) => {
      const box = el("input", { type: "checkbox", class: "nbt-select" });
      box.checked = chosen.has(r.run_id);
      box.addEventListener("change", () => toggle(r.run_id, box.checked));
      const tr = el("tr", { class: chosen.has(r.run_id) ? "nbt-row nbt-chosen" : "nbt-row", "data-run-id": r.run_id });
      tr.append(
        el("td", { class: "nbt-check" }, box),
        el("td", { class: "nbt-seq", text: `#${r.seq}` }),
        el("td", { class: "nbt-name", text: r.name || "" }),
        el("td", { class: "nbt-experiment", text: r.experiment }),
        el("td", {}, el("span", { class: `nbt-badge nbt-status-${String(r.status).toLowerCase()}`, text: r.status })),
        el("td", {
          class: "nbt-time",
          "data-start": String(r.start_time),
          title: new Date(r.start_time * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC",
          text: relativeTime(r.start_time, now),
        }),
        el("td", { class: "nbt-num", text: r.status === "RUNNING" ? "…" : formatDuration(r.duration) }),
      );
      for (const c of shown) {
        const value = r.values[c.name];
        tr.append(el("td", { class: typeof value === "number" ? "nbt-num" : "", text: formatValue(value) }));
      }
      tr.addEventListener("click", (event) => {
        if (event.target === box) return;
        box.checked = !box.checked;
        toggle(r.run_id, box.checked);
      });
      return tr;
    });
    if (rows.length === 0) {
      rows.push(el("tr", {}, el("td", { class: "nbt-empty", colspan: String(7 + shown.length), text: "no runs match" })));
    }
    tbody.replaceChildren(...rows);
  }

  function drawChooser() {
    const hidden = new Set(model.get("hidden"));
    const groups = { metrics: [], params: [], tags: [] };
    for (const c of model.get("columns")) (groups[c.kind] || []).push(c);
    chooserBody.replaceChildren();
    for (const [kind, columns] of Object.entries(groups)) {
      if (columns.length === 0) continue;
      const group = el("fieldset", { class: `nbt-group nbt-group-${kind}` }, el("legend", { text: kind }));
      for (const c of columns) {
        const box = el("input", { type: "checkbox", "data-column": c.name });
        box.checked = !hidden.has(c.name);
        box.addEventListener("change", () => {
          const now = new Set(model.get("hidden"));
          box.checked ? now.delete(c.name) : now.add(c.name);
          model.set("hidden", [...now]);
          model.save_changes();
        });
        group.append(el("label", { class: c.varying ? "nbt-varying" : "" }, box, ` ${c.key}`));
      }
      chooserBody.append(group);
    }
  }

  function drawPager() {
    const total = model.get("total");
    const size = model.get("page_size");
    const page = model.get("page");
    const pages = Math.max(1, Math.ceil(total / size));
    const go = (p) => () => {
      model.set("page", Math.min(Math.max(0, p), pages - 1));
      model.save_changes();
    };
    const first = total ? page * size + 1 : 0;
    const last = Math.min(total, (page + 1) * size);
    const button = (text, target, disabled, cls) => {
      const b = el("button", { class: cls, text, onclick: go(target) });
      b.disabled = disabled;
      return b;
    };
    pager.replaceChildren(
      button("«", 0, page === 0, "nbt-first"),
      button("‹", page - 1, page === 0, "nbt-prev"),
      el("span", { class: "nbt-page", text: `${first}–${last} of ${total} · page ${page + 1} of ${pages}` }),
      button("›", page + 1, page >= pages - 1, "nbt-next"),
      button("»", pages - 1, page >= pages - 1, "nbt-last"),
    );
    count.textContent = `${total} run${total === 1 ? "" : "s"}`;
  }

  function drawSelection() {
    const n = model.get("selected").length;
    actions.querySelector(".nbt-selected-count").textContent = n ? `${n} selected` : "select runs to act on them";
  }

  function drawMessages() {
    const error = model.get("filter_error");
    filterError.textContent = error;
    filterError.hidden = !error;
    filterInput.classList.toggle("nbt-invalid", Boolean(error));
    message.textContent = model.get("message");
    message.hidden = !model.get("message");
    const r = model.get("restored");
    restored.replaceChildren();
    restored.hidden = !r || !r.code;
    if (r && r.code) {
      const pre = el("pre", { class: "nbt-code", text: r.code });
      const copy = el("button", {
        class: "nbt-copy",
        text: "Copy",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(r.code);
            copy.textContent = "Copied";
          } catch {
            const range = document.createRange();
            range.selectNodeContents(pre);
            getSelection().removeAllRanges();
            getSelection().addRange(range);
            copy.textContent = "Selected: press Ctrl+C";
          }
        },
      });
      restored.append(el("div", { text: `run #${r.seq}'s code` }), copy, pre);
    }
  }

  const drawAll = () => {
    differs.checked = model.get("differs_only");
    if (document.activeElement !== filterInput) filterInput.value = model.get("filter");
    drawHead();
    drawRows();
    drawChooser();
    drawPager();
    drawSelection();
    drawMessages();
  };
  drawAll();
  const redraw = {
    "change:rows": () => (drawHead(), drawRows(), drawPager()),
    "change:shown": () => (drawHead(), drawRows()),
    "change:sort": drawHead,
    "change:columns": drawChooser,
    "change:hidden": drawChooser,
    "change:total change:page": drawPager,
    "change:selected": () => (drawHead(), drawRows(), drawSelection()),
    "change:filter_error change:message change:restored": drawMessages,
    "change:filter": () => {
      if (document.activeElement !== filterInput) filterInput.value = model.get("filter");
    },
    "change:differs_only": () => (differs.checked = model.get("differs_only")),
  };
  for (const [events, handler] of Object.entries(redraw)) model.on(events, handler);
  const ticker = setInterval(() => {
    const now = Date.now() / 1000;
    for (const td of tbody.querySelectorAll("td.nbt-time")) td.textContent = relativeTime(Number(td.dataset.start), now);
  }, 30000);
  return () => {
    clearInterval(ticker);
    for (const [events, handler] of Object.entries(redraw)) model.off(events, handler);
  };
}

export default { render };
