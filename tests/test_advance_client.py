"""The vendor client over real HTTP: signing, token cache, retries, and every way a call can fail."""
import threading
import time

import pytest

from facesite.advance import AccessTokenCache, AdvanceClient, TransportError, VendorError, parse_retry_after, sign
from tests.support.servers import envelope


def client_for(fake_vendor, **options):
    options.setdefault("access_key", "ak-test")
    options.setdefault("secret_key", "sk-test")
    return AdvanceClient(fake_vendor.url, token_cache=AccessTokenCache(), read_timeout=1, **options)


def add(client):
    return client.add_face("1", b"\xff\xd8 picture", filename="face.jpg", mime_type="image/jpeg",
                           details={"name": "Ana", "country": "ID"})


def test_signature_matches_the_vendors_worked_example():
    assert sign("sampleaccesskey", "samplesecretkey", "1665993522952") == \
        "02209bbeaf0d0a3dd587f6a1ba22f84c98d142e3b545e77db7e4906ca56349f5"


@pytest.mark.parametrize("header, seconds", [
    ("10", 10), ("10s", 10), ("10 s", 10), (" 7 seconds", 7), ("1.6s", 2), ("", None), ("soon", None), (None, None),
])
def test_retry_after_is_read_leniently(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_as_an_http_date():
    from email.utils import formatdate

    assert 25 <= parse_retry_after(formatdate(time.time() + 30, usegmt=True)) <= 30


def test_token_request_is_signed_with_a_13_digit_millisecond_timestamp(fake_vendor):
    answer = add(client_for(fake_vendor, token_period=600))
    assert answer.face_id == "101"
    body = fake_vendor.calls("token")[0]["json"]
    assert len(body["timestamp"]) == 13 and abs(int(body["timestamp"]) / 1000 - time.time()) < 5
    assert body["signature"] == sign("ak-test", "sk-test", body["timestamp"])
    assert body["periodSecond"] == 600 and body["accessKey"] == "ak-test"
    sent = fake_vendor.calls("add_face")[0]
    assert sent["headers"]["X-Access-Token"] == "fake-token-1"
    assert sent["form"] == {"faceSetId": "1", "name": "Ana", "country": "ID"}


def test_token_is_cached_and_reused(fake_vendor):
    client = client_for(fake_vendor)
    for _ in range(3):
        add(client)
    assert len(fake_vendor.calls("token")) == 1


def test_token_is_renewed_shortly_before_it_expires(fake_vendor):
    soon = lambda: envelope(data={"token": "short-lived", "expiredTime": int((time.time() + 2) * 1000)})  # noqa: E731
    fake_vendor.token.append(soon)
    client = client_for(fake_vendor)
    add(client)
    time.sleep(1.6)  # past the renewal point (a quarter of the 2 s lifetime before expiry)
    add(client)
    assert [c["headers"]["X-Access-Token"] for c in fake_vendor.calls("add_face")] == ["short-lived", "fake-token-2"]


def test_one_token_request_for_many_threads():
    cache, fetches = AccessTokenCache(), []

    def slow_fetch():
        fetches.append(1)
        time.sleep(0.2)
        return "shared", time.time() + 3600

    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(cache.get(("h", "k"), slow_fetch))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tokens == ["shared"] * 16 and len(fetches) == 1


def test_an_expired_token_is_replaced_and_the_call_retried_once(fake_vendor):
    fake_vendor.add_face.append(envelope("IAM_FAILED", "Token not found or expired"))
    answer = add(client_for(fake_vendor))
    assert answer.envelope.code == "SUCCESS"
    assert [c["headers"]["X-Access-Token"] for c in fake_vendor.calls("add_face")] == ["fake-token-1", "fake-token-2"]


def test_iam_failure_twice_is_reported_not_looped(fake_vendor):
    fake_vendor.add_face.extend([envelope("IAM_FAILED", "Account is disabled")] * 2)
    with pytest.raises(VendorError) as caught:
        add(client_for(fake_vendor))
    assert caught.value.response.code == "IAM_FAILED" and len(fake_vendor.calls("add_face")) == 2


def test_a_fixed_token_is_sent_as_is_and_never_renewed(fake_vendor):
    fake_vendor.add_face.append(envelope("IAM_FAILED", "Token not found or expired"))
    client = AdvanceClient(fake_vendor.url, fixed_token="fixed-abc")
    with pytest.raises(VendorError):
        add(client)
    assert fake_vendor.calls("token") == []
    assert fake_vendor.calls("add_face")[0]["headers"]["X-Access-Token"] == "fixed-abc"


def test_a_refused_signature_is_reported_as_a_token_problem(fake_vendor):
    fake_vendor.token.append(envelope("PARAMETER_ERROR", "Signature error"))
    with pytest.raises(VendorError) as caught:
        add(client_for(fake_vendor))
    assert caught.value.step == "token" and caught.value.response.message == "Signature error"


def test_vendor_codes_carry_message_transaction_and_retry_after(fake_vendor):
    fake_vendor.add_face.append((envelope("SERVICE_BUSY", "busy", transaction_id="t-9"), 200, {"Retry-After": "12s"}))
    with pytest.raises(VendorError) as caught:
        add(client_for(fake_vendor))
    answer = caught.value.response
    assert (answer.code, answer.message, answer.transaction_id, answer.retry_after) == ("SERVICE_BUSY", "busy", "t-9", 12)


def test_a_slow_vendor_times_out_and_the_add_face_is_not_replayed(fake_vendor):
    fake_vendor.add_face.append(lambda: (time.sleep(2), envelope(data="late"))[1])
    with pytest.raises(TransportError) as caught:
        add(client_for(fake_vendor))
    assert caught.value.kind == "timeout" and caught.value.may_have_reached
    time.sleep(1.2)
    assert len(fake_vendor.calls("add_face")) == 1


@pytest.mark.parametrize("answer, kind, reached", [
    (("<html><body>502 Bad Gateway</body></html>", 502, {"Content-Type": "text/html"}), "http_status", True),
    (("upstream connect error", 503, {}), "http_status", True),
    (("slow down", 429, {"Retry-After": "30"}), "rate_limited", False),
    (("{not json", 200, {"Content-Type": "application/json"}), "not_json", True),
    (("<html>maintenance</html>", 200, {"Content-Type": "text/html"}), "not_json", True),
])
def test_gateway_errors_and_garbage_become_transport_errors(fake_vendor, answer, kind, reached):
    fake_vendor.add_face.append(answer)
    with pytest.raises(TransportError) as caught:
        add(client_for(fake_vendor))
    assert (caught.value.kind, caught.value.may_have_reached) == (kind, reached)
    if kind == "rate_limited":
        assert caught.value.retry_after == 30


def test_a_json_envelope_on_http_429_is_still_read_as_the_vendor_answer(fake_vendor):
    fake_vendor.add_face.append((envelope("SERVICE_BUSY", "Too many"), 429, {"Retry-After": "5"}))
    with pytest.raises(VendorError) as caught:
        add(client_for(fake_vendor))
    assert caught.value.response.code == "SERVICE_BUSY" and caught.value.response.retry_after == 5


def test_connection_refused_means_nothing_reached_the_vendor():
    from facesite.sandbox.launcher import free_port

    client = AdvanceClient(f"http://127.0.0.1:{free_port()}", access_key="a", secret_key="s",
                           token_cache=AccessTokenCache())
    with pytest.raises(TransportError) as caught:
        client.search("1", b"x", filename="f.jpg", mime_type="image/jpeg")
    assert caught.value.kind == "connection" and not caught.value.may_have_reached


def test_keys_and_tokens_stay_out_of_repr_and_errors(fake_vendor):
    fake_vendor.add_face.append(envelope("ERROR", "Server error."))
    client = client_for(fake_vendor, access_key="AK-SECRETLY", secret_key="SK-SECRETLY")
    with pytest.raises(VendorError) as caught:
        add(client)
    for text in (repr(client), str(caught.value), repr(caught.value)):
        assert "SECRETLY" not in text and "fake-token" not in text
