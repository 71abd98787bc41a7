"""The portal itself needs none of the sandbox's heavy packages (requirements-portal.txt is enough)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
for name in ("numpy", "dlib", "face_recognition_models"):
    sys.modules[name] = None  # importing any of them now fails
import os
from facesite.app import create_app
from facesite.config import Settings
app = create_app(Settings.from_env(os.environ).overridden(ADVANCE_BASE_URL="http://127.0.0.1:9"))
page = app.test_client().get("/auth/login", base_url="https://localhost")  # real vendor: HTTPS only
assert page.status_code == 200, page.status_code
print("portal ok without the engine; sandbox mode:", app.config["SANDBOX_MODE"])
"""


def test_the_portal_runs_without_numpy_or_dlib(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path), "ADVANCE_ACCESS_KEY": "k",
           "ADVANCE_SECRET_KEY": "s", "SECRET_KEY": "x" * 32}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "portal ok without the engine; sandbox mode: False" in result.stdout
