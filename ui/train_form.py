"""The Train page form, generated from TrainConfig's fields (help text, bounds, choices)."""
from __future__ import annotations

import streamlit as st

from core.train.config import TrainConfig, form_fields
from core.train.strategies import count_parameters

BASIC_COLUMNS = 3


def _widget(field: dict, where, key_prefix: str = "train_"):
    key = key_prefix + field["name"]
    label = field["name"].replace("_", " ").capitalize()
    default, kind, help_text = field["default"], field["kind"], field["help"]
    if "choices" in field:
        options = list(field["choices"])
        return where.selectbox(label, options, index=options.index(default), key=key, help=help_text)
    if kind == "bool":
        return where.checkbox(label, value=default, key=key, help=help_text)
    if kind == "int":
        return int(where.number_input(label, value=int(default), min_value=int(field.get("min", 0)),
                                      max_value=int(field.get("max", 2**31 - 1)), step=1, key=key, help=help_text))
    if kind == "float":
        fmt = field.get("format") or "%.4g"
        step = float(field.get("step") or (0.01 if field.get("max", 10) <= 1 else 0.5))
        return float(where.number_input(label, value=float(default), min_value=float(field.get("min", 0.0)),
                                        max_value=float(field.get("max", 1e9)), step=step, format=fmt, key=key,
                                        help=help_text))
    if kind == "tuple":
        text = where.text_input(label, value=", ".join(default), key=key, help=help_text)
        return tuple(t.strip() for t in text.split(",") if t.strip())
    return where.text_input(label, value=str(default), key=key, help=help_text).strip()


def _applies(field: dict, task: str, strategy: str | None) -> bool:
    if field.get("task") and field["task"] != task:
        return False
    return not field.get("only_for") or field["only_for"] == strategy


def config_form(task: str, completed_runs: list[dict]) -> tuple[TrainConfig | None, str | None]:
    """All TrainConfig fields as widgets; returns (config, None) or (None, error message)."""
    fields = form_fields()
    values: dict = {}
    basic = [f for f in fields if f["group"] == "basic" and not f.get("only_for")]
    values["model"] = _widget(basic[0], st)
    columns = st.columns(BASIC_COLUMNS)
    for i, f in enumerate(basic[1:]):
        values[f["name"]] = _widget(f, columns[i % BASIC_COLUMNS])
    specific = [f for f in fields if _applies(f, task, values["strategy"]) and f.get("only_for")]
    if specific:
        columns = st.columns(max(len(specific), BASIC_COLUMNS))
        for i, f in enumerate(specific):
            values[f["name"]] = _widget(f, columns[i])
    with st.expander("Advanced settings"):
        columns = st.columns(BASIC_COLUMNS)
        advanced = [f for f in fields if f["group"] == "advanced" and _applies(f, task, values["strategy"])]
        for i, f in enumerate(advanced):
            values[f["name"]] = _widget(f, columns[i % BASIC_COLUMNS])
    values.update(_continue_fields(completed_runs))
    try:
        return TrainConfig(**values), None
    except ValueError as exc:
        return None, str(exc)


def _continue_fields(completed_runs: list[dict]) -> dict:
    if not completed_runs:
        return {}
    with st.expander("Continue from an earlier run"):
        options = [None] + [r["id"] for r in completed_runs]
        names = {r["id"]: f"#{r['id']} {r['name']} ({r['metric']} {r['value'] or 0:.3f})" for r in completed_runs}
        run = st.selectbox("Continue from", options, format_func=lambda i: "— start from the model —" if i is None
                           else names[i], key="train_continue_from",
                           help="Start from this run's model and train on the samples labelled since.")
        share = st.slider("Replay share", 0.0, 1.0, 0.0, 0.05, key="train_replay_share",
                          help="Share of the earlier run's samples trained on again, so it does not forget them.",
                          disabled=run is None)
    return {"continue_from": run, "replay_share": share if run is not None else 0.0}


@st.cache_data(show_spinner="Counting parameters…", max_entries=64)
def trainable_parameters(config_json: dict, task: str, num_labels: int, multilabel: bool) -> tuple[int, int] | str:
    """(trainable, total) for the configured strategy, or the reason it cannot be counted."""
    try:
        config = TrainConfig.from_json(config_json)
        counted = count_parameters(config, task, num_labels, multilabel)
    except (ValueError, OSError) as exc:
        return str(exc)
    return counted.trainable, counted.total
