"""The sandbox upstream: a local HTTP server that speaks the vendor's Face Search contract.

Same paths, fields, envelope, codes and messages as the vendor (see
docs/advance-ai-api.md), with real face detection. Operator endpoints live
under /sandbox/, outside the vendor's paths, so nobody mistakes them for the
vendor's API.
"""
from __future__ import annotations

import logging
import secrets
import time

import pycountry
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from facesite import advance
from facesite.pictures import image_rules
from facesite.sandbox import DEMO_FACE_SET_ID, DEMO_FACE_SET_NAME
from facesite.sandbox.engine import NoFaceError, get_engine, rank
from facesite.sandbox.keys import OPERATOR_HEADER, SandboxKeys, proof
from facesite.sandbox.store import SandboxStore

log = logging.getLogger(__name__)

TIMESTAMP_WINDOW_SECONDS = 300
TOKEN_PERIOD_DEFAULT, TOKEN_PERIOD_MIN, TOKEN_PERIOD_MAX = 3600, 60, 86400
MAX_TEXT_FIELD = 255
SCORE_FIELD = "similarity"

EMPTY = ("EMPTY_PARAMETER_ERROR", "Parameter should not be empty")
ILLEGAL = ("PARAMETER_ERROR", "Parameter error, please check your request whether has illegal parameters.")
TOKEN_EXPIRED = ("IAM_FAILED", "Token not found or expired")
# What a browser's cross-site <form> can send without asking the sandbox first (no preflight).
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
JSON_OPERATOR_ENDPOINTS = ("create_face_set", "revoke_tokens")


class Refusal(Exception):
    """Answer with this code and message (HTTP 200, as the vendor does)."""

    def __init__(self, code: str, message: str, extra=None):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


def envelope(code: str, message: str, data=None, extra=None, pricing: str = "FREE"):
    return jsonify(code=code, message=message, data=data, extra=extra,
                   transactionId=secrets.token_hex(16), pricingStrategy=pricing)


def search_face_set(store: SandboxStore, face_set_id: str, vector, top_k: int, threshold: float) -> list[dict]:
    """The ``top_k`` faces scoring above ``threshold``, best first, as the vendor's face objects."""
    face_ids, scores = rank(*store.embeddings(face_set_id), vector, top_k, threshold)
    faces = store.faces_by_id(face_ids)
    return [{**faces[face_id], SCORE_FIELD: round(score, 2)} for face_id, score in zip(face_ids, scores)]


def create_sandbox_app(db_path: str, keys: SandboxKeys) -> Flask:
    access_key, secret_key = keys.access_key, keys.secret_key
    app = Flask("facesite.sandbox")
    app.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024
    store = SandboxStore(db_path)
    store.create_face_set(DEMO_FACE_SET_ID, DEMO_FACE_SET_NAME)
    app.extensions["sandbox_store"] = store

    @app.errorhandler(Refusal)
    def refused(error: Refusal):
        return envelope(error.code, error.message, extra=error.extra)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 413:  # a body too big to read: the image rule is what the caller broke
            return envelope("PARAMETER_ERROR", image_rules.MSG_TOO_LARGE)
        return envelope("CLIENT_ERROR", f"HTTP {error.code} - {error.name}"), error.code

    @app.before_request
    def operators_only():
        """Every /sandbox/ endpoint but the proof needs the operator key, and the JSON ones take JSON only."""
        if not request.path.startswith("/sandbox/") or request.endpoint == "prove_key":
            return None
        if not secrets.compare_digest(request.headers.get(OPERATOR_HEADER, "").encode(), keys.operator_key.encode()):
            return jsonify(error=f"the operator key ({OPERATOR_HEADER}) is missing or wrong"), 401
        if request.endpoint in JSON_OPERATOR_ENDPOINTS and request.mimetype in FORM_TYPES:
            return jsonify(error="send JSON"), 415
        return None

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        log.exception("sandbox error")
        return envelope("ERROR", "Server error.")

    @app.post(advance.TOKEN_PATH)
    def generate_token():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Refusal("CLIENT_ERROR", "HTTP 400 - Bad Request")
        key, stamp, signature = (str(body.get(f) or "") for f in ("accessKey", "timestamp", "signature"))
        if not (key and stamp and signature):
            raise Refusal("PARAMETER_ERROR", "Parameter should not be empty")
        if not (stamp.isdigit() and len(stamp) == 13
                and abs(int(stamp) / 1000 - time.time()) <= TIMESTAMP_WINDOW_SECONDS):
            raise Refusal("PARAMETER_ERROR", "Timestamp error")
        if key != access_key or not secrets.compare_digest(signature, advance.sign(key, secret_key, stamp)):
            raise Refusal("PARAMETER_ERROR", "Signature error")
        try:
            period = int(body.get("periodSecond") or TOKEN_PERIOD_DEFAULT)
        except (TypeError, ValueError):
            raise Refusal(*ILLEGAL) from None
        period = min(max(period, TOKEN_PERIOD_MIN), TOKEN_PERIOD_MAX)
        token, expires_at = store.issue_token(key, period)
        return envelope("SUCCESS", "OK", data={"token": token, "expiredTime": int(expires_at * 1000)})

    def face_request() -> tuple[str, bytes]:
        """Checks shared by add face and search: token, face set, picture, face."""
        if not store.token_is_valid(request.headers.get(advance.TOKEN_HEADER, "")):
            raise Refusal(*TOKEN_EXPIRED)
        face_set_id = request.form.get("faceSetId", "").strip()
        upload = request.files.get("faceImage")
        if not face_set_id or upload is None:
            raise Refusal(*EMPTY)
        if not store.face_set_exists(face_set_id):
            raise Refusal("PARAMETER_ERROR", f"FaceSet not found, id: {face_set_id}")
        picture = upload.read()
        try:
            image_rules.check_image(picture)
        except image_rules.ImageRuleError as error:
            raise Refusal("PARAMETER_ERROR", error.vendor_message) from None
        return face_set_id, picture

    def embed(picture: bytes):
        try:
            return get_engine().embed(picture)
        except NoFaceError:
            raise Refusal("PARAMETER_ERROR", "Failed to embed image: No face detected") from None

    def face_extra(face) -> dict:
        """Where the face used is (so the portal can centre its thumbnail on it) and, with several,
        a note that the largest one was used."""
        left, top, width, height = face.box
        extra = {"faceRect": {"left": left, "top": top, "width": width, "height": height}}
        if face.face_count > 1:
            extra.update(faceCount=face.face_count,
                         note=f"{face.face_count} faces found in the picture; the largest one was used.")
        return extra

    @app.post(advance.ADD_FACE_PATH)
    def add_face():
        face_set_id, picture = face_request()
        details = {}
        for field in advance.ADD_FACE_DETAILS:
            value = request.form.get(field, "").strip()
            if len(value) > MAX_TEXT_FIELD:
                raise Refusal(*ILLEGAL)
            details[field] = value or None
        if details["country"] and (len(details["country"]) != 2
                                   or pycountry.countries.get(alpha_2=details["country"]) is None):
            raise Refusal(*ILLEGAL)
        face = embed(picture)
        extension = image_rules.check_image(picture).extension
        face_id = store.add_face(face_set_id, face.vector, details, extension)
        return envelope("SUCCESS", "OK", data=face_id, extra=face_extra(face))

    @app.post(advance.SEARCH_PATH)
    def search():
        face_set_id, picture = face_request()
        try:
            top_k = int(request.form.get("topK") or 20)
            threshold = float(request.form.get("threshold") or 80)
        except ValueError:
            raise Refusal(*ILLEGAL) from None
        if not (1 <= top_k <= 1000 and 0 <= threshold <= 100):
            raise Refusal(*ILLEGAL)
        face = embed(picture)
        references = search_face_set(store, face_set_id, face.vector, top_k, threshold)
        data = {"topK": top_k, "threshold": threshold, "total": len(references), "faceReferences": references}
        return envelope("SUCCESS", "OK", data=data, extra=face_extra(face), pricing="PAY")

    # -- operator endpoints, outside the vendor's paths ----------------------------

    @app.get("/sandbox/face-sets")
    def list_face_sets():
        return jsonify(faceSets=store.list_face_sets())

    @app.post("/sandbox/face-sets")
    def create_face_set():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error="a JSON object is required"), 400
        face_set_id = str(body.get("id") or "").strip()
        if not face_set_id or len(face_set_id) > 64:
            return jsonify(error="id is required (at most 64 characters)"), 400
        created = store.create_face_set(face_set_id, str(body.get("name") or ""))
        return jsonify(id=face_set_id, created=created), 201 if created else 200

    @app.post("/sandbox/faces")
    def detect_faces():
        """Where the faces in a picture are, largest first, without adding or searching anything: the
        portal's check before it enrols (a picture of several people is asked about first)."""
        upload = request.files.get("faceImage")
        picture = upload.read() if upload is not None else b""
        try:
            image_rules.check_image(picture)
        except image_rules.ImageRuleError as error:
            return jsonify(error=error.vendor_message), 400
        boxes = get_engine().detect(picture)
        return jsonify(faces=[dict(zip(("left", "top", "width", "height"), box)) for box in boxes])

    @app.post("/sandbox/tokens/revoke")
    def revoke_tokens():
        return jsonify(revoked=store.revoke_tokens())

    @app.get("/sandbox/proof")
    def prove_key():
        # A batch worker asks before it trusts whatever answers on the sandbox's port; the key never travels.
        challenge = request.args.get("challenge", "")
        if not 16 <= len(challenge) <= 128:
            return jsonify(error="challenge: 16 to 128 characters"), 400
        return jsonify(proof=proof(keys.operator_key, challenge))

    @app.get("/healthz")
    def healthz():
        # Only that it is up: which data it serves is nobody else's business.
        return jsonify(status="ok")

    return app
