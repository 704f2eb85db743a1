// Classification labeller: one key per label. Multi-label keys toggle and Enter accepts;
// single-label keys pick the label and accept at once. s skips. Backspace undoes the last
// toggle on this sample and, with none left, goes back (as in the NER labeller); ctrl+z only undoes.
// Choices go to Python as drafts; accept / skip / back / forward through the outbox (_common.js).

function freshState(task) {
  return {
    version: task.version, selected: new Set(task.categories || []), undo: [],
    suggested: !!task.suggestion, shownAt: performance.now(),
  };
}

function chosen(inst) {
  return inst.data.labels.map((l) => l.name).filter((n) => inst.st.selected.has(n));
}

export default function (component) {
  return mountLabeller(component, "cat-labeller", freshState, render, wire, (inst, d) => { inst.root.dataset.multilabel = String(!!d.multilabel); });
}

function render(inst, parts) {
  const { st, data } = inst;
  parts.head.textContent = "";
  parts.head.append(
    el("span", "sid", "#" + data.sample_id),
    el("span", "meta", data.split + " · " + data.status + (data.position ? " · " + data.position : "")),
    el("span", "meta", data.multilabel ? "several labels may apply" : "one label"),
  );
  parts.badge.textContent = suggestionText(data.suggestion);
  parts.badge.hidden = !st.suggested;
  parts.badge.setAttribute("data-testid", "suggestion-badge");
  parts.text.textContent = data.text;
  parts.legend.textContent = "";
  for (const label of data.labels) {
    const chip = legendChip(label, "label-");
    chip.setAttribute("aria-pressed", String(st.selected.has(label.name)));
    chip.classList.toggle("suggested", st.suggested);
    parts.legend.append(chip);
  }
  actionBar(parts.bar, "cat", [
    ["back", "Back", "PgUp", !data.can_back],
    ...(data.multilabel ? [["undo", "Undo", "⌫", !st.undo.length]] : []),
    ["skip", "Skip", "s"],
    ["accept", "Accept", "Enter"],
    ["forward", "Forward", "PgDn", !data.can_forward],
  ]);
}

function choose(inst, parts, name) {
  const { st, data } = inst;
  st.suggested = false;
  if (data.multilabel) {
    st.undo.push(new Set(st.selected));
    if (st.selected.has(name)) st.selected.delete(name);
    else st.selected.add(name);
    render(inst, parts);
    noteEdit(inst, { categories: chosen(inst) });
    return;
  }
  st.selected = new Set([name]);
  render(inst, parts);
  send(inst, parts, "accept");
}

function restoreSelection(inst, parts, selected) {
  inst.st.selected = selected;
  render(inst, parts);
  if (inst.data.multilabel) noteEdit(inst, { categories: chosen(inst) });
}

function undo(inst, parts) {
  undoLast(inst, parts, (sel) => restoreSelection(inst, parts, sel));
}

function send(inst, parts, type) {
  const { st, data } = inst;
  if (inst.waiting) return;
  if (type === "accept" && !data.multilabel && st.selected.size !== 1) {
    showMessage(parts.msg, "Pick the label first: press its key or click it.", "info");
    return;
  }
  move(inst, type, { categories: chosen(inst) });
}

function wire(inst, root, parts) {
  parts.legend.addEventListener("mousedown", (e) => e.preventDefault());
  parts.legend.addEventListener("click", (e) => {
    const chip = e.target.closest && e.target.closest(".chip");
    if (chip && !inst.waiting) choose(inst, parts, chip.dataset.label);
  });
  parts.bar.addEventListener("mousedown", (e) => e.preventDefault());
  parts.bar.addEventListener("click", (e) => {
    const btn = e.target.closest && e.target.closest("button");
    if (!btn || btn.disabled) return;
    if (btn.dataset.act === "undo") undo(inst, parts);
    else send(inst, parts, btn.dataset.act);
  });
  root.addEventListener("mousedown", () => takeFocus(inst), true);
  const onKey = (e) => {
    if (!root.isConnected || e.defaultPrevented || isTypingTarget(e) || e.isComposing || !inst.st) return;
    if (handleKey(inst, parts, e)) {
      e.preventDefault();
      e.stopPropagation();
      releaseFocus(root);
    }
  };
  window.addEventListener("keydown", onKey, true);
  return () => window.removeEventListener("keydown", onKey, true);
}

function handleKey(inst, parts, e) {
  const { st, data } = inst;
  const ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && (e.key === "z" || e.key === "Z") && !inst.waiting) { undo(inst, parts); return true; }
  if (ctrl || e.altKey) return false;
  if (inst.waiting) return ["Enter", "s", "S", "Backspace", "PageDown", "PageUp"].includes(e.key);
  switch (e.key) {
    case "Enter": send(inst, parts, "accept"); return true;
    case "s": case "S": send(inst, parts, "skip"); return true;
    case "Backspace":
      undoOrBack(inst, parts, (sel) => restoreSelection(inst, parts, sel), () => send(inst, parts, "back"));
      return true;
    case "PageUp": if (data.can_back) send(inst, parts, "back"); return true;
    case "PageDown": if (data.can_forward) send(inst, parts, "forward"); return true;
    case "Escape":
      if (st.selected.size) st.undo.push(new Set(st.selected));
      st.selected = new Set();
      st.suggested = false;
      render(inst, parts);
      if (data.multilabel) noteEdit(inst, { categories: [] });
      return true;
    default: break;
  }
  const label = labelByKey(data.labels, e.key);
  if (label) { choose(inst, parts, label.name); return true; }
  return false;
}
