"""Operator commands for the sandbox: ``python -m facesite.sandbox …`` or ``flask --app app sandbox …``."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import click

from facesite import advance
from facesite.sandbox import keys as sandbox_keys
from facesite.sandbox.keys import sandbox_db_path

__all__ = ["sandbox_cli", "sandbox_db_path"]


def make_app(db_path: str | None = None, keys: sandbox_keys.SandboxKeys | None = None):
    """The sandbox on ``db_path``; with no keys given, those the environment names (the launcher's), else fresh
    ones (the operator's own commands use the app in this process only)."""
    # Here, not at the top: the sandbox's face engine (dlib, numpy) loads only in a process that serves it.
    from facesite.sandbox.server import create_sandbox_app

    return create_sandbox_app(db_path or sandbox_db_path(), keys or sandbox_keys.configured())


def _exit_with_parent(parent_pid: int) -> None:
    # A child the portal started must not outlive it, even if the portal was killed.
    while os.getppid() == parent_pid:
        time.sleep(1)
    os._exit(0)


@click.group("sandbox")
def sandbox_cli():
    """The embedded sandbox upstream (a local stand-in for ADVANCE.AI Face Search)."""


@sandbox_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9100, show_default=True, type=int)
@click.option("--db", "db_path", default=None, help="SQLite file (default: $SANDBOX_DB or instance/sandbox.sqlite3).")
@click.option("--parent-pid", type=int, default=None, hidden=True)
def serve(host, port, db_path, parent_pid):
    """Serve the sandbox API until stopped."""
    from werkzeug.serving import make_server

    db_path = db_path or sandbox_db_path()
    keys = sandbox_keys.configured()  # the launcher's, or fresh ones for a sandbox started by hand
    app = make_app(db_path, keys)
    if parent_pid:
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    server = make_server(host, port, app, threaded=True)
    # Before it answers: whoever sees it up finds its keys (the operator's commands, a batch worker).
    sandbox_keys.save(db_path, f"http://{host}:{server.port}", keys)
    click.echo(f"sandbox upstream on http://{host}:{server.port}", err=True)
    server.serve_forever()


@sandbox_cli.command("create-face-set")
@click.argument("face_set_id")
@click.option("--name", default="", help="A label for people.")
def create_face_set(face_set_id, name):
    """Create a face set in the sandbox."""
    created = make_app().extensions["sandbox_store"].create_face_set(face_set_id, name)
    click.echo(f"face set {face_set_id!r} " + ("created" if created else "already exists"))


@sandbox_cli.command("list-face-sets")
def list_face_sets():
    """List the sandbox's face sets and how many faces each holds."""
    for face_set in make_app().extensions["sandbox_store"].list_face_sets():
        click.echo(f"{face_set['id']}\t{face_set['faces']} faces\t{face_set['name']}")


@sandbox_cli.command("enrol-folder")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--face-set", "face_set_id", default="demo", show_default=True)
def enrol_folder(folder, face_set_id):
    """Enrol every PNG/JPEG in FOLDER, named after its file, through the sandbox's own Add Face."""
    keys = sandbox_keys.configured()
    access_key, secret_key = keys.access_key, keys.secret_key
    app = make_app(keys=keys)
    app.extensions["sandbox_store"].create_face_set(face_set_id)
    client = app.test_client()  # the real endpoint, with every check it makes, without a network
    stamp = str(int(time.time() * 1000))
    token = client.post(advance.TOKEN_PATH, json={
        "accessKey": access_key, "timestamp": stamp, "signature": advance.sign(access_key, secret_key, stamp),
    }).get_json()["data"]["token"]
    added = failed = 0
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        answer = client.post(advance.ADD_FACE_PATH, headers={advance.TOKEN_HEADER: token}, data={
            "faceSetId": face_set_id, "name": path.stem, "externalReferenceId": f"folder:{path.name}",
            "faceImage": (path.open("rb"), path.name)}).get_json()
        if answer["code"] == "SUCCESS":
            added += 1
            click.echo(f"{path.name}: face {answer['data']}")
        else:
            failed += 1
            click.echo(f"{path.name}: {answer['code']} {answer['message']}")
    click.echo(f"{added} added, {failed} refused, face set {face_set_id!r}")


@sandbox_cli.command("keys")
def show_keys():
    """Print the URL and keys of the sandbox last started on this machine's sandbox data (for your own
    scripts: they change with every start)."""
    found = sandbox_keys.load(sandbox_db_path())
    if found is None:
        raise click.ClickException("no sandbox has run on this data yet")
    url, keys = found
    click.echo(f"url\t{url}\naccess key\t{keys.access_key}\nsecret key\t{keys.secret_key}\n"
               f"operator key ({sandbox_keys.OPERATOR_HEADER})\t{keys.operator_key}")
