"""Plotly figures for training curves: one or several runs overlaid.

Axes are set from the data rather than left to Plotly's autorange, which draws a single point at
step 30 on a 29-31 axis, an all-zero F1 curve from -1 to 1, and learning rates as "20μ"."""
from __future__ import annotations

import plotly.graph_objects as go

from core.runs.summary import smooth

Series = list[tuple[int, float]]
PALETTE = ("#4361ee", "#f77f00", "#2a9d8f", "#e63946", "#7209b7", "#6c757d", "#b5838d", "#588157")
# Metrics that live in [0, 1]: their axis starts at 0 and never goes past 1.
BOUNDED = ("f1", "accuracy", "precision", "recall", "macro_f1", "micro_f1")


def _layout(fig: go.Figure, title: str, y: str, height: int = 280) -> go.Figure:
    if not fig.data:
        fig.add_annotation(text="no points yet", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                           font=dict(color="#888"))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step",
                      yaxis_title=y, legend=dict(orientation="h", y=-0.25), template="plotly_white")
    steps = [x for trace in fig.data for x in trace.x]
    if steps:
        # Steps count from 0: a lone point at step 30 sits at the right end of 0-30, not mid 29-31.
        fig.update_xaxes(range=[0, max(steps) * 1.04 or 1], tickformat="d", rangemode="nonnegative")
    return fig


def value_range(values: list[float], bounded: bool) -> list[float] | None:
    """y range for a curve: [0, a little above the top] for [0, 1] metrics (never below 0, so an
    all-zero F1 curve is drawn at the bottom of 0-1, not in the middle of -1..1); None (autorange)
    otherwise, except that a flat curve gets a band around its value."""
    if not values:
        return [0.0, 1.0] if bounded else None
    top, bottom = max(values), min(values)
    if bounded:
        return [0.0, min(1.0, max(top * 1.15, 0.05)) if top < 0.9 else 1.02]
    if top == bottom:
        pad = abs(top) * 0.1 or 1.0
        return [bottom - pad, top + pad]
    return None


def loss_figure(curves: dict[str, Series], raw: bool = True) -> go.Figure:
    """Training loss per run: the raw points (faint) and a zero-phase smoothed line."""
    fig = go.Figure()
    for i, (name, points) in enumerate(curves.items()):
        colour = PALETTE[i % len(PALETTE)]
        steps = [s for s, _ in points]
        values = [v for _, v in points]
        if raw:
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers", name=f"{name} (raw)",
                                     line=dict(color=colour, width=1), opacity=0.35, marker=dict(size=3)))
        fig.add_trace(go.Scatter(x=steps, y=smooth(values), mode="lines+markers" if len(points) == 1 else "lines",
                                 name=f"{name} (smoothed)", line=dict(color=colour, width=2.5)))
    _layout(fig, "Training loss", "loss")
    fig.update_yaxes(range=value_range([v for pts in curves.values() for _, v in pts], bounded=False))
    return fig


def line_figure(curves: dict[str, Series], title: str, y: str, markers: bool = False) -> go.Figure:
    fig = go.Figure()
    for i, (name, points) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=[s for s, _ in points], y=[v for _, v in points], name=name,
                                 mode="lines+markers" if markers or len(points) == 1 else "lines",
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2)))
    _layout(fig, title, y)
    values = [v for pts in curves.values() for _, v in pts]
    fig.update_yaxes(range=value_range(values, bounded=y in BOUNDED))
    return fig


def learning_rate_figure(curves: dict[str, Series]) -> go.Figure:
    """The schedule, ticks in scientific notation ("2.0e-4", not Plotly's SI "200μ")."""
    fig = line_figure(curves, "Learning rate", "learning rate")
    top = max((v for pts in curves.values() for _, v in pts), default=0.0)
    fig.update_yaxes(tickformat=".1e", exponentformat="e", range=[0, top * 1.1 or 1e-4])
    return fig


def pick(curves_by_run: dict[int, dict[str, Series]], metric: str, names: dict[int, str]) -> dict[str, Series]:
    """One metric's series for each run that has it, keyed by the run's display name."""
    return {names[r]: c[metric] for r, c in curves_by_run.items() if c.get(metric)}
