"""Plotly figures for training curves: one or several runs overlaid."""
from __future__ import annotations

import plotly.graph_objects as go

from core.runs.summary import smooth

Series = list[tuple[int, float]]
PALETTE = ("#4361ee", "#f77f00", "#2a9d8f", "#e63946", "#7209b7", "#6c757d", "#b5838d", "#588157")


def _layout(fig: go.Figure, title: str, y: str, height: int = 280) -> go.Figure:
    if not fig.data:
        fig.add_annotation(text="no points yet", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                           font=dict(color="#888"))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step",
                      yaxis_title=y, legend=dict(orientation="h", y=-0.25), template="plotly_white")
    return fig


def loss_figure(curves: dict[str, Series], raw: bool = True) -> go.Figure:
    """Training loss per run: the raw points (faint) and an exponential moving average."""
    fig = go.Figure()
    for i, (name, points) in enumerate(curves.items()):
        colour = PALETTE[i % len(PALETTE)]
        steps = [s for s, _ in points]
        values = [v for _, v in points]
        if raw:
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers", name=f"{name} (raw)",
                                     line=dict(color=colour, width=1), opacity=0.35, marker=dict(size=3)))
        fig.add_trace(go.Scatter(x=steps, y=smooth(values), mode="lines", name=f"{name} (smoothed)",
                                 line=dict(color=colour, width=2.5)))
    return _layout(fig, "Training loss", "loss")


def line_figure(curves: dict[str, Series], title: str, y: str, markers: bool = False) -> go.Figure:
    fig = go.Figure()
    for i, (name, points) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=[s for s, _ in points], y=[v for _, v in points], name=name,
                                 mode="lines+markers" if markers else "lines",
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2)))
    return _layout(fig, title, y)


def pick(curves_by_run: dict[int, dict[str, Series]], metric: str, names: dict[int, str]) -> dict[str, Series]:
    """One metric's series for each run that has it, keyed by the run's display name."""
    return {names[r]: c[metric] for r, c in curves_by_run.items() if c.get(metric)}
