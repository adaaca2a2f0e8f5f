"""A poetry.lock that names no groups (lock-version 2.0): the main dependencies are walked from pyproject.toml."""

from pathlib import Path

from s2i.buildpacks.python import dependencies
from s2i.buildpacks.python_lock import main_lines

REPO = Path(__file__).resolve().parents[2]

LOCK = {"package": [
    {"name": "Web_Kit", "version": "1.0", "dependencies": {
        "click": ">=8", "fast-io": {"version": "*", "optional": True, "markers": 'sys_platform != "win32" and extra == "speed"'},
        "slow-io": {"version": "*", "optional": True, "markers": 'extra == "compat"'},
        "tomli": [{"version": "*", "markers": 'python_version < "3.11"'}, {"version": "*", "markers": 'sys_platform == "win32"'}]}},
    {"name": "click", "version": "8.1.7", "dependencies": {"colorama": {"version": "*", "markers": 'platform_system == "Windows"'}}},
    {"name": "colorama", "version": "0.4.6"}, {"name": "fast-io", "version": "2.0"}, {"name": "slow-io", "version": "0.1"},
    {"name": "tomli", "version": "2.0.1"}, {"name": "pytest", "version": "8.0", "dependencies": {"iniconfig": "*"}},
    {"name": "iniconfig", "version": "2.0.0"}, {"name": "colorama-ext", "version": "9"},
]}


def test_main_dependencies_their_markers_and_the_extras_asked_for():
    roots = {"python": "^3.9", "web-kit": {"version": "^1.0", "extras": ["speed"]}, "colorama": "*",
             "colorama-ext": {"version": "*", "optional": True}}
    assert main_lines(LOCK, roots) == [
        "click==8.1.7", "colorama==0.4.6",  # asked for directly too: no marker
        'fast-io==2.0 ; (sys_platform != "win32")',
        'tomli==2.0.1 ; (python_version < "3.11") or (sys_platform == "win32")', "Web_Kit==1.0"]


def test_the_fixture_app_ships_click_without_its_dev_group():
    assert dependencies(REPO / "tests" / "apps" / "py-poetry-dev") == {
        "source": "poetry.lock", "requirements": ["click==8.1.7", 'colorama==0.4.6 ; (platform_system == "Windows")']}
