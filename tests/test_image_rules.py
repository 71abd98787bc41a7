"""The vendor's picture rules, checked by content, with the vendor's exact messages."""
import pytest

from facesite.pictures import image_rules
from facesite.pictures.image_rules import ImageRuleError, check_image
from tests.support import face
from tests.support.pictures import noise, plain, png_claiming_size, truncated


def refusal(data: bytes) -> str:
    with pytest.raises(ImageRuleError) as caught:
        check_image(data)
    return caught.value.vendor_message


def test_real_jpeg_and_png_with_alpha_pass():
    facts = check_image(face("obama.jpg"))
    assert (facts.format, facts.width, facts.height, facts.mime_type) == ("JPEG", 910, 1137, "image/jpeg")
    assert check_image(face("32bit.png")).format == "PNG"


def test_the_limits_are_inclusive_at_256_and_4096():
    assert check_image(plain(256, 256)).width == 256
    assert check_image(plain(4096, 256)).width == 4096
    assert refusal(plain(255, 300)) == "Image resolution should be 256 * 256 to 4096 * 4096"
    assert refusal(plain(300, 4097)) == "Image resolution should be 256 * 256 to 4096 * 4096"


def test_a_240p_photo_is_too_small():
    assert refusal(face("obama-240p.jpg")) == image_rules.MSG_RESOLUTION


def test_two_megabytes_or_more_is_refused_before_decoding():
    big = noise(900, 900)  # about 2.4 MB of random pixels
    assert len(big) >= 2 * 1024 * 1024
    assert refusal(big) == "File size should be less than 2MB"
    assert check_image(noise(700, 700)).size_bytes < 2 * 1024 * 1024


@pytest.mark.parametrize("data", [
    b"", b"GIF89a not really", b"%PDF-1.4 a document renamed face.jpg", "hello".encode() * 100,
])
def test_non_images_are_refused(data):
    assert refusal(data) == "File should be an image file, like jpg, png, jpeg."


def test_other_image_formats_are_refused():
    assert refusal(plain(300, 300, "GIF")) == image_rules.MSG_NOT_IMAGE
    assert refusal(plain(300, 300, "WEBP")) == image_rules.MSG_NOT_IMAGE


def test_a_truncated_jpeg_is_refused_as_damaged():
    with pytest.raises(ImageRuleError) as caught:
        check_image(truncated(face("obama.jpg")))
    assert caught.value.vendor_message == image_rules.MSG_NOT_IMAGE
    assert "damaged" in str(caught.value)


def test_a_decompression_bomb_is_refused_without_being_expanded():
    assert refusal(png_claiming_size(60000, 60000)) == image_rules.MSG_RESOLUTION
    assert refusal(png_claiming_size(5000, 5000)) == image_rules.MSG_RESOLUTION


def test_the_browser_gets_the_same_rules():
    rules = image_rules.browser_rules()
    assert rules["maxBytes"] == image_rules.MAX_BYTES
    assert (rules["minSide"], rules["maxSide"]) == (256, 4096)
    assert rules["messages"]["resolution"] == image_rules.MSG_RESOLUTION
    assert set(rules["mimeTypes"]) == {"image/png", "image/jpeg"}
