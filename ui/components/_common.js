// Shared by the labellers. Sample text only ever reaches the page through textContent or
// text nodes, never innerHTML: "<script>" in a sample is shown as characters.

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// The element a key press is typed into, through shadow roots.
function keyTarget(event) {
  return (event.composedPath && event.composedPath()[0]) || event.target;
}

// Keys typed into a text field (annotator name, filters, an open dropdown's search) are not
// labeller commands. A closed dropdown that merely kept the focus (Queue order, after Esc) is no
// text field: the labeller takes the keys and hands the focus back to the page.
function isTypingTarget(event) {
  const target = keyTarget(event);
  if (!target || !target.tagName) return false;
  const tag = target.tagName.toLowerCase();
  if (target.isContentEditable || tag === "textarea") return true;
  if (tag === "select") return true;
  if (tag !== "input") return false;
  if (target.getAttribute("role") === "combobox") return target.getAttribute("aria-expanded") === "true";
  return !["button", "checkbox", "radio", "range", "submit", "reset", "file", "color"].includes(target.type);
}

// A control outside the labeller that kept the focus (a closed dropdown, a button) would take
// Enter and the hotkeys; hand them back. Text fields keep theirs.
function releaseFocus(root) {
  let active = document.activeElement;
  while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
  if (!active || active === document.body || (root && root.contains(active))) return;
  const tag = (active.tagName || "").toLowerCase();
  const typing = active.isContentEditable || tag === "textarea" ||
    (tag === "input" && active.getAttribute("role") !== "combobox" &&
     !["button", "checkbox", "radio", "range", "submit", "reset", "file", "color"].includes(active.type));
  if (!typing && active.blur) active.blur();
}

function labelByKey(labels, key) {
  return labels.find((l) => l.hotkey && l.hotkey === key) || null;
}

function legendChip(label, testPrefix) {
  const chip = el("button", "chip");
  chip.type = "button";
  chip.tabIndex = -1;
  chip.dataset.testid = testPrefix + label.name;
  chip.setAttribute("data-testid", testPrefix + label.name);
  chip.dataset.label = label.name;
  chip.style.setProperty("--c", label.colour);
  const swatch = el("span", "swatch");
  swatch.style.background = label.colour;
  chip.append(swatch, el("span", "chip-name", label.name));
  if (label.hotkey) chip.append(el("kbd", "", label.hotkey));
  if (label.description) chip.title = label.description;
  return chip;
}

function actionButton(text, key, testid) {
  const btn = el("button", "act");
  btn.type = "button";
  btn.tabIndex = -1;
  btn.setAttribute("data-testid", testid);
  btn.append(el("span", "", text));
  if (key) btn.append(el("kbd", "", key));
  return btn;
}

// The row of action buttons under a labeller, in the order given. Each entry is
// [act, text, key, disabled]; "accept" is the primary button; testids are `${prefix}-${act}`.
function actionBar(bar, prefix, entries) {
  bar.textContent = "";
  for (const [act, text, key, disabled] of entries) {
    const btn = actionButton(text, key, `${prefix}-${act}`);
    btn.dataset.act = act;
    btn.disabled = !!disabled;
    if (act === "accept") btn.classList.add("primary");
    bar.append(btn);
  }
}

// Backspace in both labellers: undo the last edit on this sample; with none left, go back to the
// previous sample (its answer can then be changed). ctrl+z only ever undoes (undoLast).
function undoOrBack(inst, parts, restore, back) {
  if (!inst.st.undo.length && inst.data.can_back) back();
  else undoLast(inst, parts, restore);
}

// Pops the edit stack ``inst.st.undo`` and hands the earlier state to ``restore`` to redraw.
function undoLast(inst, parts, restore) {
  if (!inst.st.undo.length) {
    showMessage(parts.msg, "Nothing to undo on this sample.", "info");
    return;
  }
  restore(inst.st.undo.pop());
  showMessage(parts.msg, "", "");
}

function showMessage(node, text, kind) {
  node.textContent = text || "";
  node.className = "msg" + (text ? " " + (kind || "info") : "");
}

function suggestionText(suggestion) {
  if (!suggestion) return "";
  const conf = suggestion.confidence === null || suggestion.confidence === undefined
    ? "" : ", lowest confidence " + Number(suggestion.confidence).toFixed(2);
  return "Suggested by " + suggestion.source + conf + ": check, correct if needed, Enter accepts";
}

// ---- Working ahead of the server ---------------------------------------------------------
// `inst.tasks` holds the sample on screen first, then the next ones Python sent ahead. Enter
// puts an accept into the outbox and shows the next sample at once; every send carries the
// whole unacknowledged outbox (a trigger value Streamlit coalesces with a later one loses
// nothing) and Python applies each entry once, in `seq` order, acknowledging with `data.acked`.
// Edits go out as drafts too (debounced), so a reload or another page loses nothing.
// `inst` holds: st (per-sample edit state), shared (data without tasks), data (shared + the task
// on screen), tasks, outbox, seq, reset, waiting, root, parts, fresh(task) -> st, render(), send.

const SAVE_TIMEOUT_MS = 15000;
const DRAFT_DELAY_MS = 400;
const MOVES = ["accept", "skip", "back", "forward"];

function syncAttrs(inst) {
  const r = inst.root;
  const task = inst.tasks[0];
  r.dataset.sampleId = task ? String(task.sample_id) : "";
  r.dataset.version = task ? String(inst.st.version) : "";
  r.dataset.busy = String(!!inst.waiting);
  r.dataset.saving = String(inst.outbox.some((e) => MOVES.includes(e.type)));
  r.dataset.acked = String(inst.acked);
  r.dataset.seq = String(inst.lastMove || 0);
  r.dataset.ahead = String(Math.max(inst.tasks.length - 1, 0));
}

function showTask(inst, task, message, kind) {
  inst.data = Object.assign({}, inst.shared, task, {
    can_back: !!(inst.shared.can_back || inst.moved),
    can_forward: !!(inst.tasks[1] && inst.tasks[1].in_history),
  });
  inst.st = inst.fresh(task);
  inst.render();
  const note = task.draft ? "Your unsaved changes to this sample are restored." : "";
  showMessage(inst.parts.msg, message || note, message ? kind : "info");
  syncAttrs(inst);
}

// Python sent data: the first render, an answer to the outbox, or a move it decided (reset).
function receive(inst, data) {
  const { tasks, ...shared } = data;
  inst.shared = shared;
  acknowledge(inst, data.acked);
  if (data.reset !== inst.reset) { // Python moved the labeller: a filter, a link, back, a refused save
    inst.reset = data.reset;
    inst.tasks = tasks.slice();
    inst.moved = false;
    inst.waiting = false;
    if (inst.tasks.length) showTask(inst, inst.tasks[0], data.message, data.message_kind);
  } else if (inst.waiting) { // no sample was left ahead: Python's answer brings the next one
    if (inst.acked >= inst.lastMove) {
      inst.waiting = false;
      inst.tasks = tasks.slice();
      if (inst.tasks.length) showTask(inst, inst.tasks[0]);
    }
  } else if (inst.tasks.length) {
    mergeAhead(inst, tasks);
    inst.data = Object.assign({}, inst.data, shared, {
      can_back: !!(shared.can_back || inst.moved),
      can_forward: !!(inst.tasks[1] && inst.tasks[1].in_history),
    });
    inst.render(); // labels may have changed; the edits on screen stay
  }
  releaseFocus(inst.root);
  syncAttrs(inst);
}

// Keep the sample on screen (with its edits) and take Python's fresher list of the ones after it.
function mergeAhead(inst, tasks) {
  const ids = tasks.map((t) => t.sample_id);
  const here = ids.indexOf(inst.tasks[0].sample_id);
  if (here >= 0) {
    inst.tasks = [inst.tasks[0], ...tasks.slice(here + 1)];
    return;
  }
  const last = ids.indexOf(inst.tasks[inst.tasks.length - 1].sample_id);
  if (last >= 0) inst.tasks.push(...tasks.slice(last + 1)); // Python is behind: extend the list
}

function acknowledge(inst, acked) {
  acked = Number(acked) || 0;
  if (acked > inst.acked) inst.acked = acked;
  if (inst.seq < inst.acked) inst.seq = inst.acked; // a new labeller instance in the same session
  inst.outbox = inst.outbox.filter((e) => e.seq > inst.acked);
  if (!inst.outbox.length) {
    clearTimeout(inst.timer);
    inst.timer = null;
  }
}

function enqueue(inst, entry) {
  entry.seq = ++inst.seq;
  entry.project_id = inst.shared.project_id;
  inst.outbox.push(entry);
  if (MOVES.includes(entry.type)) inst.lastMove = entry.seq;
  return entry;
}

function flush(inst) {
  clearTimeout(inst.draftTimer);
  inst.draftTimer = null;
  if (!inst.outbox.length) return;
  inst.sends = (inst.sends || 0) + 1;
  inst.send("sync", { entries: inst.outbox.slice(), send: inst.sends });
  if (!inst.timer) {
    inst.timer = setTimeout(() => {
      inst.timer = null;
      if (!inst.outbox.length) return;
      showMessage(inst.parts.msg,
        "The server has not answered for 15 s: check that Tagtune is still running. Nothing is lost: " +
        "your changes are kept here and sent again with your next key press.", "error");
    }, SAVE_TIMEOUT_MS);
  }
  syncAttrs(inst);
}

// An edit on the sample on screen: keep it as a draft on the server (the latest one only).
function noteEdit(inst, edits) {
  const id = inst.data.sample_id;
  inst.outbox = inst.outbox.filter((e) => !(e.type === "draft" && e.sample_id === id)); // superseded
  enqueue(inst, Object.assign({ type: "draft", sample_id: id, version: inst.st.version }, edits));
  clearTimeout(inst.draftTimer);
  inst.draftTimer = setTimeout(() => flush(inst), DRAFT_DELAY_MS);
}

// Accept, skip, back or forward from the sample on screen. Accept and skip move on at once to
// the next sample sent ahead; back waits for Python (it knows the sample before).
function move(inst, type, edits) {
  const task = inst.tasks[0];
  if (!task || inst.waiting) return;
  const next = inst.tasks[1] || null;
  const local = type === "accept" || type === "skip" || (type === "forward" && next);
  if (type === "accept" || type === "skip") {
    inst.outbox = inst.outbox.filter((e) => !(e.type === "draft" && e.sample_id === task.sample_id));
  }
  enqueue(inst, Object.assign({
    type, sample_id: task.sample_id, version: inst.st.version,
    seconds: (performance.now() - inst.st.shownAt) / 1000, next: local && next ? next.sample_id : null,
  }, edits || {}));
  flush(inst);
  if (local && next) {
    inst.tasks.shift();
    inst.moved = true;
    showTask(inst, inst.tasks[0]);
    return;
  }
  if (local) inst.tasks.shift();
  inst.waiting = true;
  const word = type === "accept" ? "Saving…" : type === "skip" ? "Skipping…" : "Loading…";
  showMessage(inst.parts.msg, word, "info");
  syncAttrs(inst);
}

// One labeller instance per mounted element, kept across Streamlit re-renders so local edits
// and the outbox survive; `setup(inst)` runs on every render before the new data is received.
const INSTANCES = new WeakMap();

function mountLabeller(component, testid, freshState, render, wire, setup) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(`[data-testid="${testid}"]`);
  let inst = INSTANCES.get(parentElement);
  if (!inst) {
    const parts = {};
    for (const name of ["head", "badge", "text", "legend", "msg", "bar"]) parts[name] = root.querySelector(`.${name}`);
    inst = {
      st: null, data: null, shared: {}, tasks: [], outbox: [], seq: 0, acked: 0, lastMove: 0, reset: null,
      waiting: false, moved: false, root, parts, timer: null, draftTimer: null, fresh: freshState,
    };
    inst.render = () => render(inst, parts);
    INSTANCES.set(parentElement, inst);
    const unwire = wire(inst, root, parts);
    const leaving = () => { if (inst.outbox.length) flush(inst); }; // best effort: the tab is closing
    window.addEventListener("pagehide", leaving);
    inst.unwire = () => { unwire(); window.removeEventListener("pagehide", leaving); };
    root.tabIndex = -1; // focusable, so a click on it takes the focus from a dropdown
  }
  inst.send = setTriggerValue;
  if (setup) setup(inst, data);
  receive(inst, data);
  return () => {
    if (inst.outbox.length) flush(inst); // leaving the page: what is pending goes now
    clearTimeout(inst.timer);
    clearTimeout(inst.draftTimer);
    inst.unwire();
    INSTANCES.delete(parentElement);
  };
}

// A press inside the labeller takes the focus from whatever had it (a closed dropdown).
function takeFocus(inst) {
  releaseFocus(inst.root);
  if (document.activeElement !== inst.root && !inst.root.contains(document.activeElement)) {
    inst.root.focus({ preventScroll: true });
  }
}
