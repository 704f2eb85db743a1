import streamlit as st

st.title("Label")
st.info("This page is being built; see the open issues.")
