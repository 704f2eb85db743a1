"""Widgets of the In-context page: the IclConfig form, the prompt preview, one-sample output,
and the live view of an ICL run. Logic stays in core.icl (the LM loads only in the worker);
this file only draws."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.icl.config import DEFAULT_EXAMPLE, DEFAULT_INSTRUCTION, IclConfig
from core.base.store import sessions
from core.runs.summary import curves, run_row
from db import projects as project_repo
from db import runs as run_repo
from ui import safe
from ui.run_live import progress_bar
from ui.splits import split_box

REFRESH_SECONDS = 2.0
ACTIVE = ("queued", "running")


def config_form(task: str, descriptions: dict[str, str], project: str,
                labelled: dict[str, int]) -> tuple[IclConfig | None, str | None]:
    """The ICL settings; returns (config, None) or (None, the validation message).
    ``labelled``: labelled samples per split, shown in the split box (which starts on a split that has some)."""
    left, middle, right = st.columns(3)
    lm = left.text_input("Causal LM", "", placeholder="packaged SmolLM2-135M-Instruct",
                         help="Hugging Face id, local folder or .gguf file; empty = the packaged SmolLM2", key="icl_lm")
    shots = middle.number_input("Shots", 0, 64, 4, key="icl_shots")
    selection = right.selectbox("Demonstrations", ["knn", "random", "balanced"], key="icl_selection",
                                help="knn: nearest labelled samples by MiniLM embedding; random: one fixed set; "
                                     "balanced: labels in turn")
    split = split_box(project, "icl", ["test", "dev", "train", "unassigned"], labelled, label="Split to run on",
                      where=left)
    limit = middle.number_input("Limit (0 = all)", 0, 100_000, 50, key="icl_limit")
    calibrate = right.checkbox("Contextual calibration", False, key="icl_calibrate", disabled=task != "classification")
    with st.expander("Prompt template, label descriptions and generation settings"):
        instruction = st.text_area("Instruction (placeholders {labels}, {descriptions})",
                                   DEFAULT_INSTRUCTION[task], key=f"icl_instruction_{task}")
        example = st.text_area("Example template (placeholder {text})", DEFAULT_EXAMPLE[task], key=f"icl_example_{task}")
        table = st.data_editor(pd.DataFrame({"label": list(descriptions), "description": list(descriptions.values())}),
                               disabled=["label"], hide_index=True, key="icl_descriptions")
        c1, c2, c3, c4 = st.columns(4)
        max_new = c1.number_input("Max new tokens (NER)", 1, 1024, 32, key="icl_max_new")
        seed = c2.number_input("Seed", 0, 2**31 - 1, 13, key="icl_seed")
        batch = c3.number_input("Batch size", 1, 256, 4, key="icl_batch")
        max_chars = c4.number_input("Max characters per text", 20, 100_000, 600, key="icl_max_chars")
    try:
        config = IclConfig(
            task=task, lm=lm.strip(), shots=int(shots), selection=selection, instruction=instruction,
            example=example, label_descriptions={r.label: r.description for r in table.itertuples() if r.description},
            max_new_tokens=int(max_new) if task == "ner" else 0, seed=int(seed), calibrate=calibrate,
            batch_size=int(batch), split=split, limit=int(limit) or None, max_text_chars=int(max_chars),
        )
    except ValueError as exc:
        return None, str(exc)
    return config, None


def prompt_preview(prompt: str, demo_ids: list[int]) -> None:
    st.caption(f"{len(demo_ids)} demonstration(s): sample ids {', '.join(map(str, demo_ids)) or '—'}")
    with st.container(key="icl_prompt"):
        st.code(prompt, language=None, wrap_lines=True)


def output_view(example, pred: dict) -> None:
    """One sample's ICL answer as stored by a preview job: raw output, parsed prediction, drops."""
    output = pred["output"]
    raw_col, parsed_col = st.columns(2)
    with raw_col.container(key="icl_raw"):
        st.markdown("**Raw output**")
        st.code(pred["raw"] or "(empty)", language=None, wrap_lines=True)
        st.caption(f"{pred['seconds']:.2f} s")
    with parsed_col.container(key="icl_parsed"):
        st.markdown("**Parsed prediction**")
        if "categories" in output:
            st.markdown(f"Predicted: **{safe.md_join(output['categories'])}** · gold: "
                        f"{safe.md_join(example.categories) or '—'}")
            st.bar_chart(pd.Series(output["scores"], name="probability"))
        else:
            st.markdown(highlight(example.text, output["spans"]), unsafe_allow_html=True)
            st.caption("gold: " + ("; ".join(f"{safe.md(s.label)}: {safe.md(example.text[s.start:s.end])}"
                                             for s in example.spans) or "none"))
            for label, mention in pred.get("dropped", []):
                st.warning(f"dropped (not in the text): {safe.md(label)}: {safe.md(mention)}")
            for kind, mention in pred.get("unknown", []):
                st.info(f"ignored (unknown type “{safe.md(kind)}”): {safe.md(mention)}")


def highlight(text: str, spans: list) -> str:
    out, pos = [], 0
    for start, end, label in sorted(spans):
        out.append(safe.html(text[pos:start]))
        out.append(f"<mark title='{safe.html(label)}'>{safe.html(text[start:end])} "
                   f"<sub>{safe.html(label)}</sub></mark>")
        pos = end
    out.append(safe.html(text[pos:]))
    return "".join(out)


def queued_note(project: str, shown_run: int | None) -> None:
    """After a run was queued: which run, and where its progress shows (kept while it is the run shown)."""
    queued = st.session_state.get("icl_queued")
    if not queued or queued[0] != shown_run:
        return
    run_id, what = queued
    with st.container(key="icl_queued"):
        st.success(f"Queued run #{run_id}: {what}. The worker runs it in the background; its progress is "
                   "shown below and on the Runs page.", icon=":material/schedule:")
        if st.button(f"Open run #{run_id} on the Runs page", key="icl_open_run", icon=":material/monitoring:"):
            st.switch_page("ui/pages/runs.py", query_params={"project": project, "run": str(run_id)})


def live_icl_run(run_id: int) -> None:
    def load() -> tuple[dict, dict, dict]:
        with sessions().begin() as s:
            run = run_repo.get_run(s, run_id)
            task = project_repo.get_project_by_id(s, run.project_id).task
            return run_row(run, task), curves(s, [run_id])[run_id], dict(run.metrics or {})

    active = load()[0]["status"] in ACTIVE

    @st.fragment(run_every=REFRESH_SECONDS if active else None)
    def body() -> None:
        row, series, metrics = load()
        with st.container(key="icl_run_status"):
            st.markdown(f"**Run #{row['id']}** · {safe.md(row['name'])} · `{row['status']}`")
            speed = series.get("seconds_per_sample", [])
            progress_bar(row, f" · {speed[-1][1]:.2f} s/sample" if speed else "")
            if row["error"]:
                st.error(safe.md(row["error"]))
            if row["status"] == "completed":
                extra = f" · {metrics['dropped_mentions']} dropped mentions" if "dropped_mentions" in metrics else ""
                value = f"{row['value']:.4f}" if row["value"] is not None else "—"
                st.success(f"{row['split']} {row['metric']} = {value} · {row['seconds_per_sample']} s/sample{extra}")
        if row["status"] in ACTIVE and st.button("Cancel run", key="icl_cancel", icon=":material/stop:"):
            with sessions().begin() as s:
                run_repo.request_cancel(s, run_id)
        if active and row["status"] not in ACTIVE:
            st.rerun(scope="app")

    body()
