"""The sandbox upstream speaks the vendor's contract, with a real face engine, over HTTP."""
import time

import pytest
import requests
from click.testing import CliRunner

from facesite.advance import AccessTokenCache, AdvanceClient, VendorError, sign
from tests.support import OPERATOR, SANDBOX_ACCESS_KEY, SANDBOX_KEYS, SANDBOX_SECRET_KEY, face
from tests.support.pictures import plain, sample

TOKEN_URL = "/openapi/auth/ticket/v1/generate-token"


@pytest.fixture
def vendor(sandbox):
    return AdvanceClient(sandbox.url, access_key=SANDBOX_ACCESS_KEY, secret_key=SANDBOX_SECRET_KEY,
                         token_cache=AccessTokenCache())


def add(vendor, face_set, picture, **details):
    return vendor.add_face(face_set, picture, filename="f.jpg", mime_type="image/jpeg", details=details)


def search(vendor, face_set, picture, **options):
    return vendor.search(face_set, picture, filename="f.jpg", mime_type="image/jpeg", **options)


def refusal(call) -> tuple[str, str]:
    with pytest.raises(VendorError) as caught:
        call()
    return caught.value.response.code, caught.value.response.message


def token_request(sandbox, **overrides):
    stamp = str(int(time.time() * 1000))
    body = {"accessKey": SANDBOX_ACCESS_KEY, "timestamp": stamp,
            "signature": sign(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, stamp)}
    body.update(overrides)
    return requests.post(sandbox.url + TOKEN_URL, json=body, timeout=5).json()


def test_tokens_need_a_valid_signature_and_a_fresh_timestamp(sandbox):
    good = token_request(sandbox, periodSecond=120)
    assert good["code"] == "SUCCESS" and good["pricingStrategy"] == "FREE"
    assert abs(good["data"]["expiredTime"] / 1000 - (time.time() + 120)) < 5
    assert token_request(sandbox, signature="0" * 64)["message"] == "Signature error"
    old = str(int((time.time() - 3600) * 1000))
    assert token_request(sandbox, timestamp=old, signature=sign(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, old)
                         )["message"] == "Timestamp error"
    assert token_request(sandbox, accessKey="")["message"] == "Parameter should not be empty"


def test_calls_without_a_valid_token_are_refused(sandbox, face_set):
    answer = requests.post(sandbox.url + "/intl/openapi/face-search/facereferences", timeout=5,
                           headers={"X-ACCESS-TOKEN": "made-up"}, data={"faceSetId": face_set},
                           files={"faceImage": ("f.jpg", face("obama.jpg"), "image/jpeg")}).json()
    assert (answer["code"], answer["message"]) == ("IAM_FAILED", "Token not found or expired")


def test_unknown_paths_answer_like_the_vendor(sandbox):
    answer = requests.post(sandbox.url + "/intl/openapi/face-search/nothing", timeout=5)
    assert answer.status_code == 404 and answer.json()["code"] == "CLIENT_ERROR"
    assert answer.json()["message"] == "HTTP 404 - Not Found"


def test_refusals_use_the_vendors_codes_and_messages(vendor, face_set):
    assert refusal(lambda: add(vendor, "no-such-set", face("obama.jpg"))) == \
        ("PARAMETER_ERROR", "FaceSet not found, id: no-such-set")
    assert refusal(lambda: add(vendor, face_set, face("obama-240p.jpg"))) == \
        ("PARAMETER_ERROR", "Image resolution should be 256 * 256 to 4096 * 4096")
    assert refusal(lambda: add(vendor, face_set, b"%PDF-1.7 renamed")) == \
        ("PARAMETER_ERROR", "File should be an image file, like jpg, png, jpeg.")
    assert refusal(lambda: add(vendor, face_set, face("obama.jpg"), country="XX")) == \
        ("PARAMETER_ERROR", "Parameter error, please check your request whether has illegal parameters.")


@pytest.mark.parametrize("picture", ["coffee", "chelsea"])
def test_pictures_without_a_face_are_refused(vendor, face_set, picture):
    assert refusal(lambda: add(vendor, face_set, sample(picture))) == \
        ("PARAMETER_ERROR", "Failed to embed image: No face detected")
    assert refusal(lambda: add(vendor, face_set, plain(600, 600))) == \
        ("PARAMETER_ERROR", "Failed to embed image: No face detected")


def test_enrolled_person_is_found_first_from_another_photo(vendor, face_set):
    enrolled = add(vendor, face_set, face("obama.jpg"), name="Person A", externalReferenceId="ref-a", country="US")
    assert enrolled.envelope.code == "SUCCESS" and enrolled.face_id.isdigit() and enrolled.pricing_strategy == "FREE"
    add(vendor, face_set, face("biden.jpg"), name="Person B")
    found = search(vendor, face_set, face("obama2.jpg"))
    assert found.pricing_strategy == "PAY"
    assert [(m.name, m.face_id) for m in found.faces] == [("Person A", enrolled.face_id)]  # B is below 80
    matches = found.envelope.data["faceReferences"]  # the JSON itself, as the contract writes it
    best = matches[0]
    assert best["id"] == enrolled.face_id and best["similarity"] > 80 and found.faces[0].score == best["similarity"]
    assert best["externalReferenceId"] == "ref-a" and best["country"] == "US" and best["deletedAt"] is None
    assert best["faceImageId"].endswith(".jpg") and len(best["createdAt"]) == len("2024-08-08T03:44:11.594")
    assert found.envelope.data["topK"] == 20 and found.envelope.data["threshold"] == 80 and found.envelope.data["total"] == 1


def test_a_different_person_scores_below_80_and_threshold_zero_ranks_everyone(vendor, face_set):
    add(vendor, face_set, face("obama.jpg"), name="Person A")
    assert search(vendor, face_set, face("biden.jpg")).faces == ()
    everyone = search(vendor, face_set, face("biden.jpg"), threshold=0, top_k=5).faces
    assert len(everyone) == 1 and everyone[0].score < 80


def test_several_faces_use_the_largest_and_say_so(vendor, face_set):
    answer = add(vendor, face_set, face("obama_and_biden.jpg"), name="pair")
    assert answer.envelope.code == "SUCCESS" and "largest" in answer.note
    assert answer.envelope.extra["faceCount"] >= 2 and answer.note == answer.envelope.extra["note"]


def test_top_k_limits_the_matches(vendor, face_set):
    for photo in ("obama.jpg", "obama2.jpg", "32bit.png"):
        add(vendor, face_set, face(photo))
    found = search(vendor, face_set, face("obama2.jpg"), top_k=2, threshold=50).faces
    assert len(found) == 2 and found[0].score >= found[1].score


def test_faces_survive_a_restart(sandbox, tmp_path):
    from facesite.sandbox.server import create_sandbox_app

    path = str(tmp_path / "restart.sqlite3")
    first = create_sandbox_app(path, SANDBOX_KEYS).extensions["sandbox_store"]
    first.create_face_set("kept")
    first.add_embeddings("kept", [[0.1] * 128, [0.2] * 128])
    again = create_sandbox_app(path, SANDBOX_KEYS).extensions["sandbox_store"]
    assert again.count_faces("kept") == 2 and {"demo", "kept"} <= {s["id"] for s in again.list_face_sets()}


def test_operators_create_face_sets_by_endpoint_and_revoke_tokens(sandbox, vendor):
    created = requests.post(sandbox.url + "/sandbox/face-sets", json={"id": "branch-7", "name": "Branch 7"},
                            headers=OPERATOR, timeout=5)
    assert created.status_code == 201
    listed = requests.get(sandbox.url + "/sandbox/face-sets", headers=OPERATOR, timeout=5).json()["faceSets"]
    assert {"id": "branch-7", "name": "Branch 7"}.items() <= next(s for s in listed if s["id"] == "branch-7").items()
    add(vendor, "branch-7", face("obama.jpg"))
    requests.post(sandbox.url + "/sandbox/tokens/revoke", headers=OPERATOR, timeout=5)
    assert add(vendor, "branch-7", face("obama2.jpg")).envelope.code == "SUCCESS"  # the client renewed its token


def test_operator_commands_create_a_set_and_enrol_a_folder(tmp_path, monkeypatch):
    from facesite.sandbox.cli import sandbox_cli

    monkeypatch.setenv("SANDBOX_DB", str(tmp_path / "cli.sqlite3"))
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "Person A.jpg").write_bytes(face("obama.jpg"))
    (folder / "cup.jpg").write_bytes(sample("coffee"))
    (folder / "notes.txt").write_text("not a photo")
    runner = CliRunner()
    assert "created" in runner.invoke(sandbox_cli, ["create-face-set", "staff", "--name", "Staff"]).output
    result = runner.invoke(sandbox_cli, ["enrol-folder", str(folder), "--face-set", "staff"])
    assert result.exit_code == 0, result.output
    assert "1 added, 1 refused" in result.output and "No face detected" in result.output
    assert "staff\t1 faces\tStaff" in runner.invoke(sandbox_cli, ["list-face-sets"]).output


def test_sixteen_bit_and_palette_pictures_are_read_properly(vendor, face_set):
    import io

    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(face("obama.jpg"))).convert("L"), dtype=np.uint16) * 257
    sixteen_bit = io.BytesIO()
    Image.fromarray(grey).save(sixteen_bit, "PNG")
    palette = io.BytesIO()
    Image.open(io.BytesIO(face("obama.jpg"))).convert("P").save(palette, "PNG")
    for picture in (sixteen_bit.getvalue(), palette.getvalue()):
        assert vendor.add_face(face_set, picture, filename="f.png", mime_type="image/png").envelope.code == "SUCCESS"


def test_a_second_process_finds_the_sandbox_already_serving_its_data(tmp_path, monkeypatch):
    """A batch worker beside the web process must use the web process's sandbox, not start another."""
    from facesite.sandbox.launcher import free_port, running_sandbox, start_sandbox, stop_sandbox

    monkeypatch.setenv("SANDBOX_PORT", str(free_port()))
    db_path = str(tmp_path / "sandbox.sqlite3")
    assert running_sandbox(db_path) is None
    base_url, process = start_sandbox(db_path)
    try:
        assert running_sandbox(db_path) == base_url
        assert running_sandbox(str(tmp_path / "another.sqlite3")) is None  # a sandbox of other data is not used
    finally:
        stop_sandbox(process)
