"""Sample inspector parts: navigation, gold vs predicted with differences, token table, attributions."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.base.errors import UserError
from core.base.store import sessions
from core.interpret import attribution_job
from core.interpret.inspection import SampleView, prob_text
from ui import safe
from ui.run_live import start_worker, watch_job

CSS = """
<style>
.tt-text {line-height: 2.1; font-size: 1.02rem}
.tt-ent {padding: 2px 4px; border-radius: 4px; background: #dbeafe; border: 2px solid transparent}
.tt-ent .tt-lab {font-size: .7rem; font-weight: 600; margin-left: 4px; color: #1e3a8a}
.tt-diff {border-color: #dc2626; background: #fee2e2}
.tt-attr {padding: 1px 3px; border-radius: 3px}
</style>
"""


def navigation(ids: list[int], current: int) -> None:
    """Prev/next through the walk list; keeps ?sample= in the URL."""
    pos = ids.index(current) if current in ids else -1
    a, b, c = st.columns([1, 1, 4])
    prev_id = ids[pos - 1] if pos > 0 else None
    next_id = ids[pos + 1] if 0 <= pos < len(ids) - 1 else (ids[0] if pos == -1 and ids else None)
    if a.button("◀ Previous", disabled=prev_id is None, key="inspect_prev"):
        st.query_params["sample"] = str(prev_id)
        st.rerun()
    if b.button("Next ▶", disabled=next_id is None, key="inspect_next"):
        st.query_params["sample"] = str(next_id)
        st.rerun()
    c.caption(f"Sample {current} · {pos + 1} of {len(ids)}" if pos >= 0 else f"Sample {current} (not in this list)")


def marked_text(text: str, spans: list[tuple[int, int, str]], differing: set) -> str:
    """HTML of ``text`` with spans highlighted; spans in ``differing`` get a red frame. Escaped."""
    out, pos = [], 0
    for start, end, label in sorted(spans):
        if start < pos:
            continue
        out.append(safe.html(text[pos:start]))
        cls = "tt-ent tt-diff" if (start, end, label) in differing else "tt-ent"
        out.append(
            f'<span class="{cls}" title="{safe.html(label)}">{safe.html(text[start:end])}'
            f'<span class="tt-lab">{safe.html(label)}</span></span>'
        )
        pos = end
    out.append(safe.html(text[pos:]))
    return f'<div class="tt-text">{"".join(out)}</div>'


def gold_vs_predicted(view: SampleView) -> None:
    st.markdown(CSS, unsafe_allow_html=True)
    left, right = st.columns(2)
    if view.task == "ner":
        with left:
            st.markdown(f"**Gold** · {len(view.only_gold)} not predicted")
            st.markdown(marked_text(view.text, view.gold_spans, set(view.only_gold)), unsafe_allow_html=True)
        with right:
            st.markdown(f"**Predicted** · {len(view.only_predicted)} not in gold")
            st.markdown(marked_text(view.text, view.pred_spans, set(view.only_predicted)), unsafe_allow_html=True)
        return
    st.markdown(marked_text(view.text, [], set()), unsafe_allow_html=True)
    left.markdown("**Gold:** " + (safe.md_join(view.gold_categories) or "—"))
    same = set(view.gold_categories) == set(view.pred_categories)
    right.markdown(("**Predicted:** " if same else "**Predicted (differs):** ")
                   + (safe.md_join(view.pred_categories) or "—"))
    if view.scores:
        right.dataframe(pd.DataFrame({"probability": {k: prob_text(v) for k, v in view.scores.items()}}))


def token_table(view: SampleView) -> None:
    with st.container(key="token-table"):
        if not view.token_rows:
            st.caption("Per-token predictions need a fine-tuned NER model.")
            return
        frame = pd.DataFrame(view.token_rows)
        st.dataframe(
            frame.style.apply(lambda row: ["" if row["ok"] else "background-color: #fee2e2"] * len(row), axis=1),
            hide_index=True, width="stretch",
            column_config={"prob": st.column_config.ProgressColumn("prob", min_value=0.0, max_value=1.0, format="%.3f")},
        )


def attribution_html(words: list[dict]) -> str:
    """Words coloured by attribution: green supports the prediction, red works against it."""
    scale = max((abs(w["score"]) for w in words if w["score"] is not None), default=0.0) or 1.0
    parts = []
    for w in words:
        score = w["score"]
        if score is None:
            parts.append(safe.html(w["text"]))
            continue
        alpha = min(1.0, abs(score) / scale)
        rgb = "22,163,74" if score >= 0 else "220,38,38"
        parts.append(
            f'<span class="tt-attr" style="background: rgba({rgb},{alpha:.2f})" title="{score:+.4f}">'
            f"{safe.html(w['text'])}</span>"
        )
    return f'<div class="tt-text">{" ".join(parts)}</div>'


def attributions(run_id: int, view: SampleView) -> None:
    """Pick a word (NER) and explain its predicted label with integrated gradients, computed by
    an ``attribution`` job (the same settings are computed once and kept)."""
    words = [view.text[s:e] for s, e in view.tokens]
    word = None
    if view.task == "ner":
        word = st.selectbox("Explain the label of", range(len(words)), format_func=lambda i: f"{i}:{words[i]}",
                            key="attr_word")
    steps = st.select_slider("Integration steps", [16, 32, 64, 128], value=64, key="attr_steps")
    wanted = (run_id, view.sample_id, word, steps)
    if st.button("Compute attributions", key="attr_go"):
        try:
            with sessions().begin() as s:
                st.session_state["attr_job"] = (wanted, attribution_job.queue(s, run_id, view.sample_id, word, steps).id)
            start_worker()
        except UserError as exc:
            st.error(safe.md(exc))
    kept = st.session_state.get("attr_job")
    if not kept or kept[0] != wanted:
        return
    job = watch_job(kept[1], "Integrating gradients", key="attributions")
    if job["status"] != "completed":
        return
    out = job["metrics"]
    target = f"'{words[word]}' → {out['target_label']}" if word is not None else out["target_label"]
    st.markdown(f"Attributions for **{safe.md(target)}** "
                f"(p = {prob_text(out['prediction'])}, baseline p = {prob_text(out['baseline_prediction'])})")
    with st.container(key="attributions"):
        st.markdown(CSS + attribution_html(out["words"]), unsafe_allow_html=True)
    change = out["prediction"] - out["baseline_prediction"]
    if abs(out["delta"]) > 0.05 * max(abs(change), 1e-3):
        st.warning(f"The convergence delta ({out['delta']:+.3f}) is large next to the change in probability "
                   f"({change:+.3f}): the attributions are not yet reliable; use more integration steps.")
    st.caption(f"Convergence delta {out['delta']:+.2e}: sum of attributions minus the change in probability "
               f"({out['steps']} steps; more steps shrink it).")
