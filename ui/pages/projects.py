import streamlit as st

st.title("Projects")
st.info("This page is being built; see the open issues.")
