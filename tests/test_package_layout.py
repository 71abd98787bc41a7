"""The package's floors hold: a request enters at the top (facesite.web) and every import points down.

Read from the source (tests/support/import_graph.py); importing happens only in the child processes that
check what a plain ``import`` of the engine or the vendor client loads."""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.support import ROOT, import_graph

# The only imports left inside functions, each for a reason the code gives beside it.
IMPORTS_INSIDE_FUNCTIONS = {
    ("facesite.sandbox.cli", "facesite.sandbox.server"),  # the dlib face engine loads only where it serves
    ("facesite.worker", "facesite.worker"),  # run as __main__, the worker uses the module RQ imports
}


@pytest.fixture(scope="module")
def graph():
    return import_graph.read()


def loaded_by(statement: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after ``statement``."""
    script = f"import sys\n{statement}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("statement", ["import facesite.batch.states", "import facesite.advance",
                                       "from facesite.advance import AdvanceClient", "import facesite"])
def test_the_engine_states_and_the_vendor_client_load_no_flask(statement):
    loaded = loaded_by(statement)
    assert "facesite" in loaded
    assert not loaded & {"flask", "werkzeug", "wtforms", "flask_wtf", "sqlalchemy", "prometheus_client"}, loaded


def test_reading_the_settings_loads_no_metrics_library():
    """gunicorn's master reads the settings before it names the directory prometheus-client's multiprocess
    mode needs, which that library fixes when it is first imported."""
    assert "prometheus_client" not in loaded_by("import facesite.config, facesite.serving.worker, facesite.log_format")


def test_no_import_loop_inside_the_package(graph):
    assert graph.cycles() == []


def test_no_import_runs_back_up_between_packages(graph):
    """Drawn with each subpackage as one node, the imports still form no loop: every floor stands on the
    ones below it only."""
    assert graph.between_packages().cycles() == []


def test_nothing_below_the_web_imports_it(graph):
    importers = {module for module in graph.importers_of("facesite.web") if not module.startswith("facesite.web")}
    assert importers == {"facesite.app"}  # the factory, which registers the web's blueprints


def test_the_domain_and_the_engine_do_not_import_each_other_upwards(graph):
    assert not {m for m in graph.importers_of("facesite.batch") if m.startswith(("facesite.faces", "facesite.pictures"))}
    assert not {m for m in graph.importers_of("facesite.faces") if m.startswith("facesite.pictures")}
    lower = ("facesite.advance", "facesite.serving", "facesite.models", "facesite.extensions")
    assert not {m for m in graph.importers_of("facesite.faces") if m.startswith(lower)}


def test_imports_stay_at_the_top_of_modules(graph):
    assert set(graph.in_functions) == IMPORTS_INSIDE_FUNCTIONS


def test_the_package_itself_only_describes_the_layout():
    tree = ast.parse((ROOT / "facesite" / "__init__.py").read_text())
    assert len(tree.body) == 1 and isinstance(tree.body[0].value, ast.Constant)


def calls_in(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    return {node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            for node in ast.walk(tree) if isinstance(node, ast.Call)}


def test_the_enrol_view_and_the_batch_runner_ask_the_questions_through_one_function():
    for caller in ("facesite/web/enrol/routes.py", "facesite/batch/row_checks.py"):
        called = calls_in(caller)
        assert "ask_before_enrolling" in called, caller
        assert not called & {"faces_in", "find_duplicates"}, caller  # never the questions one by one


def test_header_sign_on_and_the_company_sign_in_make_accounts_through_one_function():
    for caller in ("facesite/access/sign_on.py", "facesite/access/oidc.py"):
        called = calls_in(caller)
        assert "account_for" in called and "User" not in called, caller


def test_settings_are_read_by_name_not_by_string_key(graph):
    """app.config keeps what Flask and its extensions read; the portal's code reads its Settings."""
    allowed = {"facesite/app.py": 1, "facesite/sandbox/server.py": 1, "facesite/web/security.py": 1}
    for module, path in graph.modules.items():
        text = path.read_text()
        keyed = text.count('config["')
        assert keyed <= allowed.get(str(path.relative_to(ROOT)), 0), module
