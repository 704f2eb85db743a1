"""The Train page form, generated from TrainConfig's fields (help text, bounds, choices).

The preset comes first and decides the schedule; the fields it fills (learning rate, epochs,
warm-up, head factor, evaluations) show its actual values for this project's data, folded with
the other advanced settings. Changing the preset or the strategy refills them."""
from __future__ import annotations

import streamlit as st

from core.train.config import PRESET_FIELDS, TrainConfig, form_fields
from core.train.presets import PRESETS, describe, preset_values
from core.train.strategies import count_parameters

BASIC_COLUMNS = 3
KEY = "train_"


def _label(name: str) -> str:
    return {"head_lr_factor": "Head learning-rate factor"}.get(name, name.replace("_", " ").capitalize())


def _widget(field: dict, where, default=None, on_change=None):
    key = KEY + field["name"]
    label = _label(field["name"])
    default = field["default"] if default is None else default
    kind, help_text = field["kind"], field["help"]
    if "choices" in field:
        options = list(field["choices"])
        fmt = (lambda name: PRESETS[name].title) if field["name"] == "preset" else str
        return where.selectbox(label, options, index=options.index(default), key=key, help=help_text,
                               format_func=fmt, on_change=on_change)
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


def _refill_preset_fields() -> None:
    """Forget the preset-filled boxes so they show the newly chosen preset's values."""
    for name in PRESET_FIELDS:
        st.session_state.pop(KEY + name, None)


def config_form(task: str, n_train: int, n_words: int,
                completed_runs: list[dict]) -> tuple[TrainConfig | None, str | None]:
    """All TrainConfig fields as widgets; returns (config, None) or (None, error message).
    ``n_train``, ``n_words``: labelled train samples and their words, which the preset sizes by."""
    fields = {f["name"]: f for f in form_fields()}
    values: dict = {"model": _widget(fields["model"], st)}
    left, right = st.columns(2)
    values["preset"] = _widget(fields["preset"], left, on_change=_refill_preset_fields)
    values["strategy"] = _widget(fields["strategy"], right, on_change=_refill_preset_fields)
    with st.container(key="preset_summary"):
        st.caption(describe(values["preset"], values["strategy"], n_train, n_words))
    # Other basic choices (e.g. vocabulary extension) sit beside the strategy-specific ones.
    specific = [f for f in fields.values() if f["group"] == "basic" and f["name"] not in values
                and _applies(f, task, values["strategy"])]
    if specific:
        columns = st.columns(max(len(specific), BASIC_COLUMNS))
        for i, f in enumerate(specific):
            values[f["name"]] = _widget(f, columns[i])
    with st.expander("Advanced settings (the preset fills the schedule)"):
        chosen = preset_values(values["preset"], values["strategy"], n_train, n_words)
        groups = [[f for f in fields.values() if f["group"] == group and _applies(f, task, values["strategy"])]
                  for group in ("schedule", "advanced")]
        for group in groups:
            columns = st.columns(BASIC_COLUMNS)
            for i, f in enumerate(group):
                values[f["name"]] = _widget(f, columns[i % BASIC_COLUMNS], default=chosen.get(f["name"]))
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
