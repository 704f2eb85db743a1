// NER span labeller. Every edit happens in the browser and goes to Python as a draft in the
// background (debounced); accept / skip / back / forward go through the outbox (_common.js), so
// labelling never waits for a server round trip.
// Spans live here as inclusive token ranges {a, b, label, suggested}; they go back to
// Python as character offsets taken from the token offsets, so they always hold whole tokens.

function freshState(task) {
  const tokens = task.tokens || [];
  const spans = [];
  for (const [start, end, label] of task.spans || []) {
    let a = -1, b = -1;
    tokens.forEach(([s, e], i) => {
      if (s < end && e > start) { if (a < 0) a = i; b = i; }
    });
    if (a >= 0) spans.push({ a, b, label, suggested: !!task.suggestion });
  }
  return {
    version: task.version, spans, undo: [], cursor: -1, anchor: null, drag: null, shownAt: performance.now(),
  };
}

function spanOffsets(inst) {
  const tokens = inst.data.tokens;
  return inst.st.spans.map((sp) => [tokens[sp.a][0], tokens[sp.b][1], sp.label]);
}

function selection(st) {
  if (st.anchor === null || st.cursor < 0) return null;
  return [Math.min(st.anchor, st.cursor), Math.max(st.anchor, st.cursor)];
}

function spanIndexAt(st, i) {
  return st.spans.findIndex((sp) => sp.a <= i && i <= sp.b);
}

export default function (component) {
  return mountLabeller(component, "ner-labeller", freshState, renderAll, wire, null);
}

function renderAll(inst, parts) {
  renderHead(inst, parts);
  renderLegend(inst, parts);
  renderText(inst, parts);
  renderBar(inst, parts);
}

function renderHead(inst, parts) {
  const d = inst.data;
  parts.head.textContent = "";
  parts.head.append(
    el("span", "sid", "#" + d.sample_id),
    el("span", "meta", d.split + " · " + d.status + (d.position ? " · " + d.position : "")),
  );
  parts.badge.textContent = suggestionText(d.suggestion);
  parts.badge.hidden = !d.suggestion || !inst.st.spans.some((sp) => sp.suggested);
  parts.badge.setAttribute("data-testid", "suggestion-badge");
}

function renderLegend(inst, parts) {
  parts.legend.textContent = "";
  for (const label of inst.data.labels) parts.legend.append(legendChip(label, "label-"));
}

function renderBar(inst, parts) {
  const d = inst.data;
  actionBar(parts.bar, "ner", [
    ["back", "Back", "PgUp", !d.can_back],
    ["undo", "Undo", "⌫"],
    ["skip", "Skip", "s"],
    ["accept", "Accept", "Enter"],
    ["forward", "Forward", "PgDn", !d.can_forward],
  ]);
}

function colourOf(inst, name) {
  const label = inst.data.labels.find((l) => l.name === name);
  return label ? label.colour : "#ddd";
}

// Rebuilt when spans change; selection changes only repaint classes (paintSelection).
function renderText(inst, parts) {
  const { st, data } = inst;
  const text = data.text, tokens = data.tokens;
  const box = parts.text;
  box.textContent = "";
  let pos = 0, i = 0;
  const tokenNode = (j) => {
    const node = el("span", "tok", text.slice(tokens[j][0], tokens[j][1]));
    node.setAttribute("data-testid", "token");
    node.dataset.index = String(j);
    return node;
  };
  while (i < tokens.length) {
    const [s] = tokens[i];
    if (s > pos) box.append(document.createTextNode(text.slice(pos, s)));
    const si = spanIndexAt(st, i);
    if (si >= 0) {
      const sp = st.spans[si];
      const mark = el("mark", "ent" + (sp.suggested ? " suggested" : ""));
      mark.setAttribute("data-testid", "span");
      mark.dataset.label = sp.label;
      mark.dataset.span = String(si);
      mark.style.setProperty("--c", colourOf(inst, sp.label));
      for (let j = sp.a; j <= sp.b; j++) {
        if (j > sp.a) mark.append(document.createTextNode(text.slice(tokens[j - 1][1], tokens[j][0])));
        mark.append(tokenNode(j));
      }
      const tag = el("span", "ent-label", sp.label + (sp.suggested ? "?" : ""));
      tag.title = "Click the span to remove it";
      mark.append(tag);
      box.append(mark);
      pos = tokens[sp.b][1];
      i = sp.b + 1;
    } else {
      box.append(tokenNode(i));
      pos = tokens[i][1];
      i += 1;
    }
  }
  if (pos < text.length) box.append(document.createTextNode(text.slice(pos)));
  if (!tokens.length) box.append(el("em", "empty", "(this sample has no words)"));
  paintSelection(inst, parts);
}

function paintSelection(inst, parts) {
  const sel = selection(inst.st);
  for (const node of parts.text.querySelectorAll(".tok")) {
    const i = Number(node.dataset.index);
    node.classList.toggle("sel", !!sel && sel[0] <= i && i <= sel[1]);
    node.classList.toggle("cur", i === inst.st.cursor);
  }
}

function edit(inst, parts, change) {
  inst.st.undo.push(inst.st.spans.map((sp) => ({ ...sp })));
  change();
  renderText(inst, parts);
  renderHead(inst, parts);
  noteEdit(inst, { spans: spanOffsets(inst) });
}

function applyLabel(inst, parts, name) {
  const st = inst.st;
  const sel = selection(st);
  if (!sel) {
    showMessage(parts.msg, "Select words first: drag over them, click one, or use the arrow keys.", "info");
    return;
  }
  const [a, b] = sel;
  const same = st.spans.findIndex((sp) => sp.a === a && sp.b === b);
  const clash = st.spans.filter((sp) => sp.a <= b && sp.b >= a);
  if (same < 0 && clash.length) {
    const sp = clash[0];
    const words = inst.data.text.slice(inst.data.tokens[sp.a][0], inst.data.tokens[sp.b][1]);
    showMessage(parts.msg,
      "Refused: the selection overlaps " + sp.label + " “" + words + "”. Spans cannot overlap; " +
      "click that span to remove it first.", "error");
    return;
  }
  edit(inst, parts, () => {
    if (same >= 0) st.spans[same] = { a, b, label: name, suggested: false };
    else st.spans.push({ a, b, label: name, suggested: false });
    st.spans.sort((x, y) => x.a - y.a);
    st.anchor = null;
    st.cursor = b;
  });
  showMessage(parts.msg, "", "");
}

function removeSpan(inst, parts, si) {
  edit(inst, parts, () => {
    inst.st.spans.splice(si, 1);
    inst.st.anchor = null;
  });
  showMessage(parts.msg, "", "");
}

function restoreSpans(inst, parts, spans) {
  inst.st.spans = spans;
  inst.st.anchor = null;
  renderText(inst, parts);
  renderHead(inst, parts);
  noteEdit(inst, { spans: spanOffsets(inst) });
}

function undo(inst, parts) {
  undoLast(inst, parts, (spans) => restoreSpans(inst, parts, spans));
}

// delta moves by tokens; an absolute target (Home/End) wins over it.
function moveCursor(inst, parts, delta, extend, target) {
  const st = inst.st;
  const n = inst.data.tokens.length;
  if (!n) return;
  let next = target !== undefined ? target : st.cursor < 0 ? (delta > 0 ? 0 : n - 1) : st.cursor + delta;
  next = Math.max(0, Math.min(n - 1, next));
  if (extend) {
    if (st.anchor === null) st.anchor = st.cursor < 0 ? next : st.cursor;
  } else {
    st.anchor = next;
  }
  st.cursor = next;
  paintSelection(inst, parts);
}

function send(inst, parts, type) {
  move(inst, type, { spans: spanOffsets(inst) });
}

function wire(inst, root, parts) {
  const tokenIndex = (target) => {
    const tok = target.closest && target.closest(".tok");
    return tok ? Number(tok.dataset.index) : null;
  };
  root.addEventListener("mousedown", () => takeFocus(inst), true);
  parts.text.addEventListener("mousedown", (e) => {
    if (e.button !== 0 || inst.waiting) return;
    e.preventDefault(); // no native text selection: ours snaps to tokens (the focus: takeFocus)
    const st = inst.st;
    const i = tokenIndex(e.target);
    const mark = e.target.closest && e.target.closest(".ent");
    if (i === null) {
      if (mark) removeSpan(inst, parts, Number(mark.dataset.span)); // the label tag
      return;
    }
    if (e.shiftKey && st.cursor >= 0) {
      if (st.anchor === null) st.anchor = st.cursor;
      st.cursor = i;
      paintSelection(inst, parts);
      return;
    }
    st.drag = { start: i, moved: false, span: mark ? Number(mark.dataset.span) : -1 };
    st.anchor = i;
    st.cursor = i;
    paintSelection(inst, parts);
  });
  parts.text.addEventListener("mouseover", (e) => {
    const st = inst.st;
    if (!st.drag) return;
    const i = tokenIndex(e.target);
    if (i === null || i === st.cursor) return;
    st.cursor = i;
    st.drag.moved = st.drag.moved || i !== st.drag.start;
    paintSelection(inst, parts);
  });
  const endDrag = () => {
    const st = inst.st;
    const drag = st.drag;
    if (!drag) return;
    st.drag = null;
    if (!drag.moved && drag.span >= 0) removeSpan(inst, parts, drag.span);
  };
  const onKey = (e) => {
    if (!root.isConnected || e.defaultPrevented || isTypingTarget(e) || e.isComposing || !inst.st) return;
    if (handleKey(inst, parts, e)) {
      e.preventDefault();
      e.stopPropagation();
      releaseFocus(root);
    }
  };
  window.addEventListener("mouseup", endDrag);
  window.addEventListener("keydown", onKey, true);
  parts.legend.addEventListener("mousedown", (e) => e.preventDefault());
  parts.legend.addEventListener("click", (e) => {
    const chip = e.target.closest && e.target.closest(".chip");
    if (chip && !inst.waiting) applyLabel(inst, parts, chip.dataset.label);
  });
  parts.bar.addEventListener("mousedown", (e) => e.preventDefault());
  parts.bar.addEventListener("click", (e) => {
    const btn = e.target.closest && e.target.closest("button");
    if (!btn || btn.disabled || inst.waiting) return;
    if (btn.dataset.act === "undo") undo(inst, parts);
    else send(inst, parts, btn.dataset.act);
  });
  return () => {
    window.removeEventListener("mouseup", endDrag);
    window.removeEventListener("keydown", onKey, true);
  };
}

// Returns true when the key was a labeller command.
function handleKey(inst, parts, e) {
  const st = inst.st;
  if (inst.waiting) return ["Enter", "s", "Backspace", "PageUp", "PageDown"].includes(e.key);
  const ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && (e.key === "z" || e.key === "Z")) { undo(inst, parts); return true; }
  if (ctrl || e.altKey) return false;
  switch (e.key) {
    case "ArrowRight": moveCursor(inst, parts, 1, e.shiftKey); return true;
    case "ArrowLeft": moveCursor(inst, parts, -1, e.shiftKey); return true;
    case "Home": moveCursor(inst, parts, 0, e.shiftKey, 0); return true;
    case "End": moveCursor(inst, parts, 0, e.shiftKey, inst.data.tokens.length - 1); return true;
    case "Escape":
      st.anchor = null;
      paintSelection(inst, parts);
      showMessage(parts.msg, "", "");
      return true;
    case "Backspace":
      undoOrBack(inst, parts, (spans) => restoreSpans(inst, parts, spans), () => send(inst, parts, "back"));
      return true;
    case "Enter": send(inst, parts, "accept"); return true;
    case "PageUp": if (inst.data.can_back) send(inst, parts, "back"); return true;
    case "PageDown": if (inst.data.can_forward) send(inst, parts, "forward"); return true;
    default: break;
  }
  if (e.key === "s" || e.key === "S") { send(inst, parts, "skip"); return true; }
  const label = labelByKey(inst.data.labels, e.key);
  if (label) { applyLabel(inst, parts, label.name); return true; }
  return false;
}
