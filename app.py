"""Tagtune entry point: `streamlit run app.py`.

Streamlit imports this file once as a module to build the server (``app`` below: its own
Starlette server with the Host check of ui/server.py in front), then runs it as the page
script, named ``__main__``, on every rerun: navigation over ui/pages, nothing else.
"""
import streamlit as st

if __name__ != "__main__":  # imported by `streamlit run` to build the server
    from ui.server import middleware

    app = st.App(__file__, middleware=middleware())
else:  # the page script
    from ui.bootstrap import start

    start()
    # The start page holds `/`, so every working page keeps its own stable path (DESIGN.md). Streamlit
    # serves a default page only at `/`; `/home` (what people type for the Home page) is a
    # hidden page that sends them there instead of a "Page not found" pop-up.
    home = st.Page("ui/pages/home.py", title="Home", icon=":material/home:", url_path="start", default=True)
    st.navigation(
        [
            home,
            st.Page(lambda: st.switch_page(home, query_params=st.query_params.to_dict()), title="Home",
                    url_path="home", visibility="hidden"),
            st.Page("ui/pages/projects.py", title="Projects", icon=":material/folder:", url_path="projects"),
            st.Page("ui/pages/data.py", title="Data", icon=":material/table:", url_path="data"),
            st.Page("ui/pages/label.py", title="Label", icon=":material/edit:", url_path="label"),
            st.Page("ui/pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
            st.Page("ui/pages/runs.py", title="Runs", icon=":material/monitoring:", url_path="runs"),
            st.Page("ui/pages/evaluate.py", title="Evaluate", icon=":material/fact_check:", url_path="evaluate"),
            st.Page("ui/pages/inspect.py", title="Inspect", icon=":material/search:", url_path="inspect"),
            st.Page("ui/pages/icl.py", title="In-context", icon=":material/chat:", url_path="icl"),
        ]
    ).run()
