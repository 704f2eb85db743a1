// Shared by the labellers. Sample text only ever reaches the page through textContent or
// text nodes, never innerHTML: "<script>" in a sample is shown as characters.

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// Keys typed into inputs (annotator name, filters) are not labeller commands.
function isTypingTarget(event) {
  const target = (event.composedPath && event.composedPath()[0]) || event.target;
  if (!target || !target.tagName) return false;
  const tag = target.tagName.toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
}

// After a sidebar choice (filter, queue order) the dropdown keeps the focus and would eat
// the labelling keys; hand them back. Text fields (annotator name) keep theirs.
function releaseFocus() {
  const active = document.activeElement;
  if (active && active.getAttribute && active.getAttribute("role") === "combobox") active.blur();
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

// ---- Sending actions -------------------------------------------------------------------
// One action is in flight at a time: a trigger carries only its latest value per rerun, so
// a second one sent before Python answered could be lost; it waits in `queued` instead.
// After an accept or skip the labeller shows `data.next` (the sample Python will answer
// with) at once, so the person keeps working while the save travels.
// `inst` holds: st (per-sample state with nonce, version, busy), data, root, parts,
// fresh(data) -> st, render(), send (setTriggerValue), inflight, queued, timer.

const SAVE_TIMEOUT_MS = 15000;

function advances(payload) {
  return payload.type === "accept" || payload.type === "skip";
}

function syncAttrs(inst) {
  const r = inst.root;
  r.dataset.sampleId = String(inst.data.sample_id);
  r.dataset.version = String(inst.st.version);
  r.dataset.nonce = String(inst.st.nonce);
  r.dataset.busy = String(inst.st.busy);
  r.dataset.saving = String(!!(inst.inflight || inst.queued));
}

function showTask(inst, data) {
  inst.data = data;
  inst.st = inst.fresh(data);
  inst.render();
  showMessage(inst.parts.msg, data.message, data.message_kind);
  syncAttrs(inst);
}

// Python sent data: an answer to the action in flight, or a first render.
function receive(inst, data) {
  if (inst.inflight && inst.inflight.nonce === data.nonce) return; // a run from before the action
  const answered = !!inst.inflight;
  if (answered) {
    inst.inflight = null;
    clearTimeout(inst.timer);
  }
  if (inst.st && inst.st.nonce === data.nonce) {
    inst.data = data; // the sample already on screen (shown ahead): keep the edits made meanwhile
    inst.render();
  } else {
    showTask(inst, data);
  }
  releaseFocus();
  if (answered) sendQueued(inst, data);
  syncAttrs(inst);
}

function sendQueued(inst, data) {
  const queued = inst.queued;
  inst.queued = null;
  if (!queued || queued.nonce !== data.nonce) return; // Python shows another sample: dropped with it
  transmit(inst, queued);
  if (advances(queued) && data.next) showTask(inst, data.next);
}

function dispatch(inst, payload) {
  if (inst.st.busy) return;
  if (inst.inflight) inst.queued = payload;
  else transmit(inst, payload);
  if (!inst.queued && advances(payload) && inst.data.next) {
    showTask(inst, inst.data.next);
    return;
  }
  inst.st.busy = true;
  const word = payload.type === "accept" ? "Saving…" : payload.type === "skip" ? "Skipping…" : "Loading…";
  showMessage(inst.parts.msg, word, "info");
  syncAttrs(inst);
}

function transmit(inst, payload) {
  inst.inflight = payload;
  inst.send("action", payload);
  clearTimeout(inst.timer);
  inst.timer = setTimeout(() => {
    inst.inflight = null;
    inst.queued = null;
    inst.st.busy = false;
    showMessage(inst.parts.msg,
      "The server has not answered for 15 s: check that Tagtune is still running. The last change may " +
      "not be saved; go back to it and press Enter again.", "error");
    syncAttrs(inst);
  }, SAVE_TIMEOUT_MS);
}

// One labeller instance per mounted element, kept across Streamlit re-renders so local edits
// survive; `setup(inst)` runs on every render before the new data is received.
const INSTANCES = new WeakMap();

function mountLabeller(component, testid, freshState, render, wire, setup) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(`[data-testid="${testid}"]`);
  let inst = INSTANCES.get(parentElement);
  if (!inst) {
    const parts = {};
    for (const name of ["head", "badge", "text", "legend", "msg", "bar"]) parts[name] = root.querySelector(`.${name}`);
    inst = { st: null, data: null, root, parts, inflight: null, queued: null, timer: null, fresh: freshState };
    inst.render = () => render(inst, parts);
    INSTANCES.set(parentElement, inst);
    inst.unwire = wire(inst, root, parts);
  }
  inst.send = setTriggerValue;
  if (setup) setup(inst, data);
  receive(inst, data);
  return () => {
    clearTimeout(inst.timer);
    inst.unwire();
    INSTANCES.delete(parentElement);
  };
}
