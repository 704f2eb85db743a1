"""Inspect: one sample under one run — gold vs predicted, per-token table, attention, attributions."""
import streamlit as st

from core.inference import predict
from core.base.errors import UserError
from core.interpret.inspection import attention_data, run_info, sample_view, walk_ids
from core.base.store import sessions
from ui import attention_view, inspect_view
from ui.eval_view import KIND_NAMES, evaluable_splits, pick_run
from ui.splits import empty_reason, split_box
from ui import safe
from ui.state import query_int, require_project

st.title("Inspect")
project = require_project()
run_id = pick_run(project)
if run_id is None:
    st.info("No completed run in this project yet: train one on the Train page.")
    st.stop()

S = sessions()
kinds = [None, *KIND_NAMES]
wanted_kind = st.query_params.get("kind")
a, b = st.columns(2)
options, sizes = evaluable_splits(project, run_id)
split = split_box(project, "inspect", options, sizes, label="Walk through split", where=a)
kind = b.selectbox("Errors of kind", kinds, index=kinds.index(wanted_kind) if wanted_kind in kinds else 0,
                   format_func=lambda k: "any error (or all samples)" if k is None else KIND_NAMES[k], key="inspect_kind")
ids = walk_ids(S, run_id, split, kind)
sample_id = query_int("sample") or (ids[0] if ids else None)
if sample_id is None:
    st.info(empty_reason(split, sizes) or f"No labelled samples in {split}.")
    st.stop()
inspect_view.navigation(ids, sample_id)

try:
    view = sample_view(S, run_id, sample_id)
except (UserError, LookupError) as exc:
    st.warning(safe.md(exc))
    st.stop()
st.caption(f"Sample {view.sample_id} · split {view.split} · run {run_id} ({view.run_kind})")
inspect_view.gold_vs_predicted(view)

if view.task == "ner":
    st.subheader("Tokens")
    inspect_view.token_table(view)

if not view.has_model:
    st.info("Attention and attributions need a fine-tuned model; this run only stored its predictions.")
    st.stop()

st.subheader("Attention")
run, task = run_info(S, run_id)
lm = predict.load_run(run, task)
layer, head, words = attention_view.controls(lm.num_layers, int(lm.model.config.num_attention_heads))
window = 0
if view.windows > 1:
    window = st.slider("Window (long text)", 0, view.windows - 1, 0, key="att_window")
data = attention_data(S, run_id, sample_id, window=window, words=words)
st.caption(f"{len(data.labels)} {'words' if words else 'subword tokens'} in window {data.window + 1} of "
           f"{data.windows}; rows sum to one.")
attention_view.heatmap(data, layer, head)
attention_view.from_token_bars(data, layer, head)

st.subheader("Attributions (integrated gradients)")
inspect_view.attributions(run_id, view)
