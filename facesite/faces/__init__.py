"""The portal's domain layer: enrolling and searching faces, for every way staff ask for it.

The views (facesite/web) and the batch runner are thin adapters over this package: they turn a form or a
manifest row into a ``PersonDetails`` and a ``Picture``, ask ``ask_before_enrolling`` (questions.py), and
call ``enrol`` or ``search``, which make the vendor call for a named staff member, write the register and
return a typed result (results.py) or a ``Refused`` with the problem in plain words (problems.py).
Nothing here knows of forms, requests or templates.

This file is the front door: callers above import from ``facesite.faces``; the modules inside import
each other directly, and nothing below the domain imports it.
"""
from facesite.faces import catalogue, searching  # noqa: F401  (used as namespaces: catalogue.resolve, …)
from facesite.faces.detection import FacesSeen, outlined  # noqa: F401
from facesite.faces.enrolment import enrol  # noqa: F401
from facesite.faces.person import MAX_LENGTH, PersonDetails, check_detail, check_person  # noqa: F401
from facesite.faces.problems import Problem, explain, unsure  # noqa: F401
from facesite.faces.questions import LikelyDuplicates, SeveralFaces, ask_before_enrolling  # noqa: F401
from facesite.faces.register import enrolments_for  # noqa: F401
from facesite.faces.results import (Enrolled, Match, Outcome, Picture, Refused, SearchResult,  # noqa: F401
                                    outcome_from_json, outcome_to_json)
from facesite.faces.searching import search  # noqa: F401
