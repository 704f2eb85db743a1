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
