import streamlit as st

st.title("Icl")
st.info("This page is being built; see the open issues.")
