"""Start page at `/`: what Tagtune does, each project at a glance, and where to go next."""
import zlib

import streamlit as st

from ui import projects_view, safe

st.title("Tagtune")
st.caption(
    "Label → fine-tune → evaluate → inspect → label smarter. Everything runs on this machine; "
    "answers are saved as you go."
)
rows = projects_view.overview()
if not rows:
    st.info("No project yet.")
    st.page_link("ui/pages/projects.py", label="Create a project", icon=":material/add:")
    st.stop()

PAGES = [("data", "Data", ":material/table:"), ("label", "Label", ":material/edit:"),
         ("train", "Train", ":material/model_training:"), ("runs", "Runs", ":material/monitoring:"),
         ("evaluate", "Evaluate", ":material/fact_check:"), ("inspect", "Inspect", ":material/search:"),
         ("icl", "In-context", ":material/chat:")]

for row in rows:
    with st.container(border=True, key=f"home-project-{zlib.crc32(row['project'].encode())}"):
        st.subheader(safe.md(row["project"]), anchor=False)
        share = row["labelled"] / row["samples"] if row["samples"] else 0.0
        st.progress(share, text=f"{row['task']} · {row['labelled']:,} of {row['samples']:,} samples labelled")
        # Page links stay in this tab (a Markdown link would open a new one).
        for col, (page, title, icon) in zip(st.columns(len(PAGES)), PAGES):
            with col:
                st.page_link(f"ui/pages/{page}.py", label=title, icon=icon, query_params={"project": row["project"]})
