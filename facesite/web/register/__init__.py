"""The register of enrolments (routes.py) and the look-up by ID number (by_id_number.py)."""
from facesite.web.register import by_id_number  # noqa: F401  (its views join the blueprint)
from facesite.web.register.routes import bp  # noqa: F401
