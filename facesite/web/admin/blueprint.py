"""The administrators' blueprint, shared by its view modules."""
from flask import Blueprint

# Who may use these views (administrators) is decided in facesite/access/policy.py, like every other.
bp = Blueprint("admin", __name__, url_prefix="/admin")
