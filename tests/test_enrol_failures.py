"""Every way the vendor can say no, or fail to answer, gives staff a clear page and keeps their form."""
import re
import time

import pytest
import requests

from tests.support import OPERATOR, EnrolPage, face, make_app, sign_in
from tests.support.servers import envelope

VALUES = {"name": "Ana Lima", "externalReferenceId": "case-77", "idNumber": "991", "idCardType": "passport",
          "country": "PH", "faceSetId": "1"}


def send(app):
    return EnrolPage(sign_in(app.test_client())).send(face("obama.jpg"), **VALUES)


def page_text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def assert_everything_kept(response):
    html = response.get_data(as_text=True)
    for name, value in VALUES.items():
        assert f'value="{value}"' in html, name
    kept = EnrolPage.hidden(html, "keptPicture")
    assert kept and f"/picture/{kept}" in html


@pytest.mark.parametrize("code, message, status, says", [
    ("PARAMETER_ERROR", "FaceSet not found, id: 1", 422, "Check the face set id"),
    ("PARAMETER_ERROR", "Failed to embed image: No face detected", 422, "face is clearly visible"),
    ("PARAMETER_ERROR", "File size should be less than 2MB", 422, "Attach a smaller picture"),
    ("PARAMETER_ERROR", "Image resolution should be 256 * 256 to 4096 * 4096", 422, "right size"),
    ("PARAMETER_ERROR", "File should be an image file, like jpg, png, jpeg.", 422, "PNG or JPEG"),
    ("PARAMETER_ERROR", "Parameter error, please check your request whether has illegal parameters.", 422,
     "check the country code"),
    ("EMPTY_PARAMETER_ERROR", "Parameter should not be empty", 422, "required field was empty"),
    ("ERROR", "Server error.", 502, "internal error"),
    ("IAM_FAILED", "Account is expired", 502, "administrator"),
    ("INSUFFICIENT_BALANCE", "Insufficient balance, please top up or contact your sales manager for help", 502,
     "top-up"),
    ("OVER_QUERY_LIMIT", "Free query limit reached", 503, "quota"),
    ("SOMETHING_NEW", "A code the portal has never seen", 502, "vendor answered with an error"),
])
def test_vendor_refusals_are_explained_with_code_message_and_transaction(fake_app, fake_vendor, code, message,
                                                                         status, says):
    fake_vendor.add_face.extend([envelope(code, message, transaction_id="txn-abc-123")] * 2)
    response = send(fake_app)
    body = page_text(response)
    assert response.status_code == status
    assert says in body
    assert f'<code class="code">{code}</code>' in body and message in body and "txn-abc-123" in body
    assert_everything_kept(response)


def test_service_busy_says_when_to_try_again(fake_app, fake_vendor):
    fake_vendor.add_face.append((envelope("SERVICE_BUSY", "Rate limit exceeded"), 200, {"Retry-After": "10s"}))
    response = send(fake_app)
    body = page_text(response)
    assert response.status_code == 503
    assert "SERVICE_BUSY" in body and "Try again in 10 seconds" in body and "<dd>10 seconds</dd>" in body
    assert_everything_kept(response)


def test_a_timeout_warns_that_the_face_may_have_been_added(fake_app, fake_vendor):
    fake_vendor.add_face.append(lambda: (time.sleep(1.5), envelope(data="5"))[1])
    response = send(fake_app)
    body = page_text(response)
    assert response.status_code == 504
    assert "did not answer in time" in body and "may have been added" in body and "case-77" in body
    assert_everything_kept(response)
    time.sleep(0.6)
    assert len(fake_vendor.calls("add_face")) == 1  # never replayed behind the user's back


@pytest.mark.parametrize("answer, says", [
    (("<html><h1>502 Bad Gateway</h1></html>", 502, {"Content-Type": "text/html"}), "gateway answered with an error"),
    (("Service Unavailable", 503, {}), "HTTP 503"),
    (("this is not json", 200, {}), "could not be read"),
    (("too many", 429, {"Retry-After": "20"}), "wait 20 seconds"),
])
def test_gateway_failures_and_garbage_get_a_clear_page(fake_app, fake_vendor, answer, says):
    fake_vendor.add_face.append(answer)
    response = send(fake_app)
    assert response.status_code in (502, 503)
    assert says in page_text(response)
    assert "<html><h1>" not in response.get_data(as_text=True)  # the gateway's own page is not echoed
    assert_everything_kept(response)


def test_an_unreachable_vendor_says_nothing_was_sent(sandbox):
    from facesite.sandbox.launcher import free_port

    app = make_app(f"http://127.0.0.1:{free_port()}")
    response = send(app)
    assert response.status_code == 502
    assert "could not reach the vendor" in page_text(response) and "Nothing reached the vendor" in page_text(response)
    assert_everything_kept(response)


def test_a_token_that_expires_mid_way_is_renewed_without_bothering_staff(app, sandbox, face_set):
    page = EnrolPage(sign_in(app.test_client()))
    assert page.send(face("obama.jpg"), faceSetId=face_set).status_code == 303
    requests.post(sandbox.url + "/sandbox/tokens/revoke", headers=OPERATOR, timeout=5)
    assert page.send(face("obama2.jpg"), faceSetId=face_set).status_code == 303
    assert sandbox.store.count_faces(face_set) == 2


def test_a_refused_signature_is_blamed_on_configuration_not_the_picture(fake_app, fake_vendor):
    fake_vendor.token.append(envelope("PARAMETER_ERROR", "Signature error"))
    body = page_text(send(fake_app))
    assert "could not sign in to the vendor" in body and "Signature error" in body
    assert fake_vendor.calls("add_face") == []
