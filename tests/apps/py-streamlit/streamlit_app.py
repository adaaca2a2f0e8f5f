import streamlit

print("hello from a Streamlit script")
