"""Start the sandbox upstream as a child process and wait until it answers.

A separate process keeps the face engine's CPU work and memory out of the
portal's web workers, and gives both the same HTTP path the real vendor has.
"""
from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time

import requests

from facesite.sandbox import keys as sandbox_keys
from facesite.sandbox.operator_api import proves_key

# The embedded sandbox's usual port, so that people and scripts can find it; another is
# taken when it is busy (a second portal on the same machine).
DEFAULT_PORT = 9100


def free_port(wanted: int = 0) -> int:
    """``wanted`` if it is free on loopback, else any free port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", wanted))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the sandbox exited with code {process.returncode} while starting")
        try:
            if requests.get(base_url + "/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the sandbox did not answer at {base_url} within {timeout:g} s")


def running_sandbox(db_path: str) -> str | None:
    """The base URL of the sandbox another process of this portal started on ``db_path`` (its key file says
    where), once it has proved it holds that sandbox's operator key; None when there is none, or when what
    answers there is something else."""
    found = sandbox_keys.load(db_path)
    if found is None:
        return None
    base_url, keys = found
    if not proves_key(base_url, keys.operator_key):
        return None
    sandbox_keys.remember(base_url, keys)
    return base_url


def start_sandbox(db_path: str) -> tuple[str, subprocess.Popen]:
    """Run ``python -m facesite.sandbox serve`` on loopback (port SANDBOX_PORT, default 9100, or
    any free one when that is busy); returns (base URL, process).

    Its keys are made here, fresh, handed to the child through its environment, and kept for this process
    (and the processes it forks) by the sandbox's URL.
    The child is ended when this process exits, and ends itself if this process dies.
    """
    port = free_port(int(os.environ.get("SANDBOX_PORT") or DEFAULT_PORT))
    command = [sys.executable, "-m", "facesite.sandbox", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--db", db_path, "--parent-pid", str(os.getpid())]
    keys = sandbox_keys.configured()
    process = subprocess.Popen(command, env={**os.environ, **keys.environment()})
    atexit.register(stop_sandbox, process)
    base_url = f"http://127.0.0.1:{port}"
    sandbox_keys.remember(base_url, keys)
    wait_until_up(base_url, process=process)
    return base_url, process


def stop_sandbox(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
