"""WSGI entry point: ``gunicorn app:app`` (see Procfile) or ``flask --app app run``."""
from facesite.app import create_app

app = create_app()
