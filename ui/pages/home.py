"""Start page at `/`: what Tagtune does, each project at a glance, and where to go next."""
from urllib.parse import quote

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

for row in rows:
    q = quote(row["project"], safe="")
    with st.container(border=True, key=f"home-project-{abs(hash(row['project']))}"):
        st.subheader(safe.md(row["project"]))
        share = row["labelled"] / row["samples"] if row["samples"] else 0.0
        st.progress(share, text=f"{row['task']} · {row['labelled']:,} of {row['samples']:,} samples labelled")
        st.markdown(
            f"[Data](/data?project={q}) · [Label](/label?project={q}) · [Train](/train?project={q}) · "
            f"[Runs](/runs?project={q}) · [Evaluate](/evaluate?project={q}) · [Inspect](/inspect?project={q}) · "
            f"[In-context](/icl?project={q})"
        )
