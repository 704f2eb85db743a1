"""Tokenizer coverage on the Data and Train pages, the model picker, and the pretraining form."""
from __future__ import annotations

import streamlit as st

from core.base.store import sessions
from core.train.pretrain import PretrainConfig
from core.train.pretrain import form_fields as pretrain_fields
from db import projects as project_repo
from ui import safe

MODEL_KEY = "train_model"  # the Train form's model field (ui.train_form: "train_" + field name)


def coverage_summary(project: str, model: str | None = None) -> dict:
    """Figures and warning (core.train.coverage.summary), or {"error": ...} when the model cannot load."""
    from core.train.coverage import summary

    try:
        with sessions().begin() as s:
            return summary(s, project_repo.get_project(s, project), model)
    except (ValueError, OSError) as exc:
        return {"error": str(exc)}


def coverage_line(project: str, model: str | None = None) -> dict:
    """One line: how much of the project's text the model's tokenizer represents; a warning above 5%."""
    info = coverage_summary(project, model)
    with st.container(key="coverage_line"):
        if "error" in info:
            st.caption(f"Tokenizer coverage: not measured ({safe.md(info['error'])})")
            return info
        st.caption(f"Tokenizer coverage ({safe.md(info['model'])}): {1 - info['share']:.1%} of the {info['unit']}s "
                   f"represented; {info['share']:.1%} map to {safe.md(info['unknown_token'])} ({info['distinct_unknown']:,} "
                   f"of {info['distinct']:,} distinct {info['unit']}s)")
        if info.get("warning"):
            st.warning(safe.md(info["warning"]), icon=":material/translate:")
    return info


def training_gate(project: str, config) -> bool:
    """The coverage line for the configured model and, when training would be refused (more than
    30% unknown, no vocabulary extension, not forced), the refusal with its fix. True: may start."""
    from core.text.coverage import Coverage
    from core.train.coverage import check_before_training

    info = coverage_line(project, config.model)
    if "error" in info:
        return True
    try:
        check_before_training(Coverage.from_json(info), config, project)
    except ValueError as exc:
        st.error(safe.md(exc), icon=":material/block:")
        return False
    return True


@st.cache_data(show_spinner="Looking for models and measuring their coverage…", ttl=60, max_entries=16)
def ranked_models(project: str, _fingerprint: tuple) -> list[dict]:
    from core.train.models import find_models, rank

    with sessions().begin() as s:
        return rank(s, project_repo.get_project(s, project), find_models(s))


def model_picker(project: str) -> None:
    """Models found on this machine with their coverage; picking one fills the model field."""
    from db import samples as sample_repo

    with sessions().begin() as s:
        fingerprint = sample_repo.text_fingerprint(s, project_repo.get_project(s, project))
    rows = [r for r in ranked_models(project, fingerprint) if r.get("share") is not None]
    if not rows:
        return
    labels = {r["ref"]: f"{'★ ' if r['recommended'] else ''}{r['name']} — {r['share']:.1%} "
                        f"{r['coverage']['unit']}s unknown · {r['detail']}" for r in rows}

    def pick() -> None:
        st.session_state[MODEL_KEY] = st.session_state["train_model_picker"]

    with st.container(key="model_picker"):
        st.selectbox("Models found on this machine (★ covers this project best)", list(labels),
                     format_func=labels.get, index=None, key="train_model_picker", on_change=pick,
                     placeholder=f"recommended: {rows[0]['name']}",
                     help="The packaged encoder, the Hugging Face cache, folders in TAGTUNE_MODELS and the models "
                          "earlier runs exported (run:N), by the share of this project's words (characters, for "
                          "Chinese) their tokenizer maps to [UNK]. Picking one fills the model field.")


def pretrain_form(project: str):
    """The pretraining settings (PretrainConfig's fields); returns (config, None) or (None, error)."""
    values = {}
    fields = [f for f in pretrain_fields() if f["group"] == "basic"]
    values["model"] = st.text_input("Model to adapt", value=st.session_state.get(MODEL_KEY) or fields[0]["default"],
                                    key="pretrain_model", help=fields[0]["help"]).strip()
    columns = st.columns(3)
    for i, f in enumerate(fields[1:]):
        where, key, label = columns[i % 3], "pretrain_" + f["name"], f["name"].replace("_", " ").capitalize()
        if f["kind"] == "bool":
            values[f["name"]] = where.checkbox(label, value=f["default"], key=key, help=f["help"])
        elif f["kind"] == "int":
            values[f["name"]] = int(where.number_input(label, value=int(f["default"]), min_value=int(f["min"]),
                                                       max_value=int(f["max"]), key=key, help=f["help"]))
        else:
            values[f["name"]] = float(where.number_input(label, value=float(f["default"]), min_value=float(f["min"]),
                                                         max_value=float(f["max"]), format=f.get("format", "%.4g"),
                                                         step=float(f.get("step", 0.01)), key=key, help=f["help"]))
    try:
        return PretrainConfig(**values), None
    except ValueError as exc:
        return None, str(exc)
