"""`pip install .` gives a portal that runs away from the checkout: every package, template, static file
and migration is inside what pyproject.toml installs."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_list_is_true_to_the_tree():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "facesite").rglob("__init__.py")}
    assert declared - on_disk == {"facesite.templates", "facesite.static", "facesite.migrations"}
    assert on_disk <= declared, f"add {sorted(on_disk - declared)} to pyproject.toml"


def test_an_installed_portal_serves_its_pages_from_anywhere(tmp_path):
    # Built from a copy: building writes build/ and *.egg-info into the source folder.
    source, target = tmp_path / "source", tmp_path / "site"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "tests", "instance", "build", "*.egg-info",
                                                                "__pycache__", "node_modules", "benchmarks"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--target", str(target), str(source)], check=True, capture_output=True, timeout=300)
    templates = {p.relative_to(ROOT / "templates") for p in (ROOT / "templates").rglob("*.html")}
    installed = {p.relative_to(target / "facesite" / "templates")
                 for p in (target / "facesite" / "templates").rglob("*.html")}
    assert installed == templates
    migrations = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert {p.name for p in (target / "facesite" / "migrations" / "versions").glob("*.py")} == migrations
    catalogues = {p.relative_to(ROOT / "facesite") for p in (ROOT / "facesite" / "translations").rglob("*.mo")}
    assert catalogues and {p.relative_to(target / "facesite")
                           for p in (target / "facesite" / "translations").rglob("*.mo")} == catalogues

    script = ("from facesite.app import create_app\n"
              "import facesite, sys\n"
              "assert facesite.__file__.startswith(sys.argv[1]), facesite.__file__\n"
              "client = create_app().test_client()\n"
              "page, css = client.get('/auth/login'), client.get('/static/picture-form.js')\n"
              "thai = client.get('/auth/login', headers={'Accept-Language': 'th'})\n"
              "print(page.status_code, b'Sign in' in page.data, css.status_code,\n"
              "      'เข้าสู่ระบบ'.encode() in thai.data)\n")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(target), "INSTANCE_PATH": str(tmp_path / "instance"),
           "ADVANCE_BASE_URL": "http://127.0.0.1:9", "ADVANCE_ACCESS_TOKEN": "installed-test",
           "SECRET_KEY": "x" * 32}
    ran = subprocess.run([sys.executable, "-c", script, str(target)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.splitlines()[-1].split() == ["200", "True", "200", "True"]  # (the log goes to stdout too)
    assert "installed-test" not in ran.stdout + ran.stderr
