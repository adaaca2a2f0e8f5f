"""A Streamlit app starts with `streamlit run` on its script, not as a plain script (streamlit-example)."""

from s2i.buildpacks.python_entry import entry_point
from tests.unit.test_buildpacks import tree

RUN = ["--server.address", "0.0.0.0", "--server.port", "$PORT", "--server.headless", "true"]


def test_the_script_that_imports_streamlit_runs_under_streamlit_run(tmp_path):
    app = tree(tmp_path, {"streamlit_app.py": "import streamlit as st\n", "app.py": "import streamlit\n", "util.py": ""})
    assert entry_point(app, {}, False, {"streamlit"}) == (
        ["/opt/venv/bin/streamlit", "run", "/app/streamlit_app.py", *RUN], "Streamlit app streamlit_app.py", False)
    (app / "streamlit_app.py").unlink()
    assert entry_point(app, {}, False, {"streamlit"})[0][2] == "/app/app.py"
    (app / "app.py").write_text("from streamlit import slider\n")
    assert entry_point(app, {}, False, {"streamlit"})[0][2] == "/app/app.py"
    (app / "app.py").unlink()
    (app / "dashboard.py").write_text("import pandas\nimport streamlit as st\n")
    assert entry_point(app, {}, False, {"streamlit"})[1] == "Streamlit app dashboard.py"


def test_streamlit_needs_the_dependency_and_a_procfile_still_wins(tmp_path):
    app = tree(tmp_path, {"app.py": "import streamlit\n"})
    assert entry_point(app, {}, False, set())[0] == ["/opt/venv/bin/python", "/app/app.py"]
    tree(tmp_path, {"Procfile": "web: streamlit run app.py --server.port $PORT\n"})
    assert entry_point(app, {}, False, {"streamlit"})[0] == ["/opt/venv/bin/streamlit", "run", "app.py", "--server.port", "$PORT"]
