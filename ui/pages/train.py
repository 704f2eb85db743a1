"""Train: configure a fine-tuning run, see how many weights will train, start it, watch it learn."""
import streamlit as st

from core.base.store import sessions
from core.train.launch import create_finetune_run, train_size
from core.runs.summary import project_runs
from core.runs.worker import ensure_worker
from db import projects as project_repo
from db import samples as sample_repo
from ui.run_live import ACTIVE, live_run
from ui.worker_status import worker_status
from ui import safe
from ui.state import query_int, require_project
from ui.coverage_view import model_picker, pretrain_form, training_gate
from ui.train_form import config_form, trainable_parameters
from core.train.pretrain_run import create_pretrain_run


def queue(create) -> None:
    """Create the run (``create(session)``), start the worker, show the run; or say why not."""
    try:
        with sessions().begin() as s:
            run_id = create(s).id
    except (ValueError, LookupError) as exc:
        st.error(safe.md(exc))
    else:
        ensure_worker()
        st.query_params["run"] = str(run_id)
        st.rerun()


st.title("Train")
worker_status()
project = require_project("then import or label data")

with sessions().begin() as s:
    p = project_repo.get_project(s, project)
    task, multilabel = p.task, p.multilabel
    labels = [l.name for l in project_repo.labels_of(s, p)]
    stats = sample_repo.stats(s, p)
    n_train, n_words = train_size(s, project)
    runs = project_runs(s, project, kinds=["finetune", "pretrain"])

st.caption(f"{task}{' (multilabel)' if multilabel else ''} · {len(labels)} labels · "
           f"{stats['labeled']:,} labelled samples · splits: "
           + ", ".join(f"{k} {v:,}" for k, v in stats["splits"].items() if v))

with st.container(key="train_form"):
    config, problem = config_form(task, n_train, n_words,
                                  [r for r in runs if r["status"] == "completed" and r["kind"] == "finetune"])
    model_picker(project)  # below the form: it measures every model found, the form need not wait for it
    allowed = config is not None and training_gate(project, config)
    n_outputs = 1 + 2 * len(labels) if task == "ner" else len(labels)
    if config is not None:
        counted = trainable_parameters(config.to_json(), task, max(n_outputs, 1), multilabel)
        with st.container(key="trainable_params"):
            if isinstance(counted, str):
                st.warning(safe.md(counted))
            else:
                trainable, total = counted
                st.metric("Trainable parameters", f"{trainable:,}",
                          help=f"of {total:,} in the model ({trainable / total:.2%}), for strategy {config.strategy}")
                st.caption(f"{trainable / total:.2%} of {total:,} weights train · learning rate "
                           f"{config.effective_learning_rate:g}")
    else:
        st.error(safe.md(problem))
    run_name = st.text_input("Run name (optional)", key="train_run_name")
    start = st.button("Start training", type="primary", key="start_training", disabled=not allowed,
                      icon=":material/play_arrow:")


if start and config is not None:
    queue(lambda s: create_finetune_run(s, project, config, name=run_name.strip()))

with st.expander("Domain-adaptive pretraining: adapt the encoder to this project's texts first"):
    st.caption("Continues masked-language-model training on the project's texts (labelled and unlabelled, never "
               "the test split); new vocabulary rows learn what their characters mean. Fine-tune from the result "
               "with model run:N (it is listed in the model picker once done).")
    pre_config, pre_problem = pretrain_form(project)
    if pre_problem:
        st.error(safe.md(pre_problem))
    if st.button("Start pretraining", key="start_pretraining", disabled=pre_config is None,
                 icon=":material/school:") and pre_config is not None:
        queue(lambda s: create_pretrain_run(s, project, pre_config))

shown = query_int("run")
if shown not in {r["id"] for r in runs}:
    active = [r["id"] for r in runs if r["status"] in ACTIVE]
    shown = active[0] if active else (runs[0]["id"] if runs else None)
if shown is not None:
    st.divider()
    live_run(shown)
    st.page_link("ui/pages/runs.py", label="All runs, comparisons, logs and exports", icon=":material/monitoring:")
