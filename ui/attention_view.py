"""Attention drawing: layer/head pickers, a heatmap, the head average, one token's attention as bars.
Data comes from core.inspection.attention_data as (layers, heads, T, T)."""
from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.interpret.inspection import AttentionData
from ui import safe

AVERAGE = "average"


def controls(layers: int, heads: int) -> tuple[object, object, bool]:
    a, b, c = st.columns(3)
    layer = a.selectbox("Layer", list(range(layers)) + [AVERAGE], index=layers - 1, key="att_layer")
    head = b.selectbox("Head", [AVERAGE] + list(range(heads)), key="att_head")
    words = c.toggle("Word level (merge subwords)", key="att_words")
    return layer, head, words


def select(att, layer, head):
    """(layers, heads, T, T) -> (T, T) for one layer/head, averaging where asked."""
    grid = att.mean(dim=0) if layer == AVERAGE else att[int(layer)]  # (heads, T, T)
    return grid.mean(dim=0) if head == AVERAGE else grid[int(head)]  # (T, T)


def axis_labels(data: AttentionData) -> list[str]:
    """Row names numbered by *word*, as the token table numbers them ("3:york", and "3:##ork" for
    a subword of word 3); special tokens keep their own name. Plotly merges equal category
    names, so a repeated name (two "[SEP]", "3:##ha" twice) gets invisible zero-width spaces."""
    out, seen = [], set()
    for text, word in zip(data.labels, data.word_ids or [None] * len(data.labels)):
        name = safe.plot(text) if word is None else f"{word}:{safe.plot(text)}"  # Plotly reads <b>, <br>
        while name in seen:
            name += "\u200b"
        seen.add(name)
        out.append(name)
    return out


def heatmap(data: AttentionData, layer, head) -> None:
    matrix = select(data.weights, layer, head).numpy()
    axis = axis_labels(data)
    fig = px.imshow(matrix, x=axis, y=axis, color_continuous_scale="Viridis", zmin=0.0, aspect="auto",
                    labels={"x": "attended to", "y": "from", "color": "weight"})
    fig.update_layout(height=min(900, 220 + 18 * len(axis)), margin=dict(l=10, r=10, t=30, b=10))
    with st.container(key="attention-heatmap"):
        st.plotly_chart(fig, width="stretch")


def from_token_bars(data: AttentionData, layer, head) -> None:
    axis = axis_labels(data)
    source = st.selectbox("Attention from token", range(len(axis)), format_func=axis.__getitem__,
                          index=min(1, len(axis) - 1), key="att_from")
    row = select(data.weights, layer, head)[source].numpy()
    fig = go.Figure(go.Bar(x=axis, y=row))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), yaxis_title="weight",
                      title=f"Where {axis[source]} looks")
    with st.container(key="attention-bars"):
        st.plotly_chart(fig, width="stretch")
