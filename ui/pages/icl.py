"""In-context: prompt a small causal LM with labelled demonstrations, preview the exact prompt,
see raw output next to the parsed prediction, run it on a split, or let it suggest labels.
The LM only ever loads in the worker: previews and runs are jobs this page watches."""
import streamlit as st

from core.base.store import sessions, to_example
from core.icl import preview
from core.icl.launch import create_icl_run, why_not
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from ui.icl_view import config_form, live_icl_run, output_view, prompt_preview, queued_note
from ui import safe
from ui.run_live import start_worker, watch_job
from ui.splits import counts as split_counts
from ui.state import query_int, require_project

st.title("In-context learning")
project = require_project("then import or label data")

with sessions().begin() as s:
    p = project_repo.get_project(s, project)
    project_id, task, multilabel = p.id, p.task, p.multilabel
    label_rows = project_repo.labels_of(s, p)
    labels = [l.name for l in label_rows]
    descriptions = {l.name: l.description or "" for l in label_rows}
    runs = [r for r in run_repo.list_runs(s, p, kinds=["icl"])]
    run_choices = {r.id: f"#{r.id} · {r.name} · {r.status}" for r in runs}

st.caption(f"{task} · labels: {safe.md_join(labels) or 'none'} · demonstrations come from the labelled train split; "
           "runs are scored by the same code as fine-tuned runs and listed on the Runs page.")
labelled = {split: n["labeled"] for split, n in split_counts(project).items()}
config, problem = config_form(task, descriptions, project, labelled)
if config is None:
    st.error(safe.md(problem))
    st.stop()

with sessions().begin() as s:  # counts and ids only: the worker reads the pool when it builds a prompt
    pool_size = sample_repo.status_counts(s, p, config.pool_split).get("labeled", 0)
    split_ids = sample_repo.sample_ids(s, p, split=config.split, limit=500)
st.caption(f"{pool_size:,} labelled samples to draw demonstrations from · {len(split_ids):,} samples shown in "
           f"{config.split!r}")

st.subheader("Try one sample")
if split_ids:
    wanted = query_int("sample")
    sample_id = st.selectbox("Sample", split_ids, index=split_ids.index(wanted) if wanted in split_ids else 0,
                             key="icl_sample")
    with sessions().begin() as s:
        example = to_example(next(sample_repo.iter_labeled(s, p, statuses=None, sample_ids=[sample_id])))
    st.markdown("> " + safe.md(example.text))
    preview_col, run_col = st.columns(2)
    show_prompt = preview_col.button("Preview prompt", key="icl_preview", icon=":material/visibility:")
    run_one = run_col.button("Run on this sample", key="icl_run_one", icon=":material/play_arrow:")
    if show_prompt or run_one:
        try:
            with sessions().begin() as s:
                st.session_state["icl_preview_job"] = preview.queue(s, project, config, sample_id, predict=run_one).id
            start_worker()
        except (ValueError, LookupError) as exc:
            st.error(safe.md(exc))
    preview_job = st.session_state.get("icl_preview_job")
    if preview_job is not None:
        job = watch_job(preview_job, "Loading the LM and building the prompt", key="icl_preview")
        shown = job["metrics"]
        if job["status"] == "completed" and shown.get("sample_id") == sample_id:
            prompt_preview(shown["prompt"], shown["demo_ids"])
            if "output" in shown:
                output_view(example, shown)
else:
    st.info(f"No samples in the {config.split!r} split: pick another split or import data.")

st.subheader("Run on a split, or suggest labels")
suggesting = type(config).from_json({**config.to_json(), "suggest": True})
with sessions().begin() as s:
    blocked, blocked_suggest = why_not(s, project, config), why_not(s, project, suggesting)
queue_col, suggest_col = st.columns(2)
start = queue_col.button(f"Run on {config.split}" + (f" (first {config.limit})" if config.limit else ""),
                         type="primary", key="icl_start", icon=":material/rocket_launch:", disabled=bool(blocked),
                         help=blocked)
suggest = suggest_col.button("Suggest with the LLM for unlabelled samples", key="icl_suggest",
                             icon=":material/auto_awesome:", disabled=bool(blocked_suggest),
                             help=blocked_suggest or "stores suggestions with source 'llm'; the Label page shows "
                                                     "them like model suggestions")
for reason in dict.fromkeys(r for r in (blocked, blocked_suggest) if r):
    st.caption(f"Not available: {reason}.")
if start or suggest:
    chosen = config if start else suggesting
    try:
        with sessions().begin() as s:
            run_id = create_icl_run(s, project, chosen).id
    except (ValueError, LookupError) as exc:
        st.error(safe.md(exc))
    else:
        start_worker()
        what = (f"LLM suggestions for up to {config.limit or 'all'} unlabelled samples" if suggest
                else f"{config.shots}-shot {config.selection} on {config.split}")
        st.session_state["icl_queued"] = (run_id, what)
        st.query_params["run"] = str(run_id)
        st.rerun()
queued_note(project, query_int("run"))

shown = query_int("run")
if shown not in run_choices and run_choices:
    shown = next(iter(run_choices))
if shown is not None:
    st.divider()
    picked = st.selectbox("ICL run", list(run_choices), index=list(run_choices).index(shown),
                          format_func=run_choices.get, key="icl_run_pick")
    live_icl_run(picked)
