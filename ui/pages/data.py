import streamlit as st

st.title("Data")
st.info("This page is being built; see the open issues.")
