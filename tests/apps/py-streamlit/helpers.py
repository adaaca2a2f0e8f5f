"""Not the app: Streamlit Community Cloud's default main file is streamlit_app.py."""
