"""Phone photos, webcam stills and odd formats become pictures the vendor accepts, and staff see what was done."""
import io
import re

import pillow_heif
import pytest
from PIL import Image

from facesite.pictures import image_rules
from facesite.pictures.preparation import prepare, strip_metadata
from tests.support import EnrolPage, face, sign_in
from tests.support.pictures import encode, giant_png, png_claiming_size

GPS_IFD = 0x8825


def phone_photo() -> bytes:
    """4032 × 3024 as a phone stores a portrait: the pixels lie on their side, EXIF orientation 6
    says 'turn me', and the EXIF carries a GPS position and a camera model."""
    portrait = Image.open(io.BytesIO(face("obama.jpg"))).convert("RGB").resize((3024, 4032))
    sideways = portrait.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x0110] = "PhoneCam 12"
    exif.get_ifd(GPS_IFD).update({1: "S", 2: (6.0, 10.0, 30.0), 3: "E", 4: (106.0, 49.0, 0.0)})
    return encode(sideways, "JPEG", quality=97, exif=exif)


def grainy_png() -> bytes:
    """About 6.5 MB: a photo with a little sensor noise, which PNG cannot compress away."""
    import numpy as np

    photo = np.asarray(Image.open(io.BytesIO(face("obama.jpg"))).convert("RGB").resize((1820, 2274)), np.int16)
    grain = np.random.default_rng(3).integers(-4, 5, photo.shape)
    return encode(Image.fromarray(np.clip(photo + grain, 0, 255).astype(np.uint8)), "PNG")


def test_a_phone_photo_is_turned_upright_shrunk_and_stripped():
    original = phone_photo()
    assert len(original) > 2 * 1024 * 1024
    prepared = prepare(original)
    image = Image.open(io.BytesIO(prepared.data))
    assert image.size == (3024, 4032)  # upright: portrait again
    assert len(prepared.data) < image_rules.MAX_BYTES and prepared.facts.format == "JPEG"
    exif = image.getexif()
    assert not exif and not exif.get_ifd(GPS_IFD) and b"PhoneCam" not in prepared.data
    assert "turned upright (EXIF orientation 6)" in prepared.summary and "re-encoded JPEG" in prepared.summary


def test_a_picture_within_the_rules_is_only_stripped_losslessly():
    exif = Image.Exif()
    exif[0x0110] = "Camera X"
    with_exif = encode(Image.open(io.BytesIO(face("obama.jpg"))), "JPEG", quality=90, exif=exif)
    stripped, removed = strip_metadata(with_exif, "JPEG")
    assert removed and b"Exif" not in stripped
    assert Image.open(io.BytesIO(stripped)).tobytes() == Image.open(io.BytesIO(with_exif)).tobytes()
    assert prepare(with_exif).summary.startswith("metadata removed")


def test_huge_pictures_are_scaled_down_by_a_whole_factor():
    """Past 4096 px a picture is shrunk by a whole factor to a long side from 2048 to 4096: a box
    filter needs no full-size intermediate copy, where a free resize of a 25 MP picture needs one."""
    big = encode(Image.open(io.BytesIO(face("obama.jpg"))).resize((5000, 6250)), "PNG")
    prepared = prepare(big)
    assert (prepared.facts.width, prepared.facts.height) == (1667, 2084)
    assert "resized from 5000 × 6250 to 1667 × 2084" in prepared.summary


def test_a_huge_jpeg_is_decoded_at_a_reduced_scale():
    """libjpeg decodes at 1/2, 1/4 or 1/8 directly: a 48 MP phone photo costs 12 MP of memory."""
    big = encode(Image.open(io.BytesIO(face("obama.jpg"))).resize((8000, 6000)), "JPEG", quality=70)
    prepared = prepare(big)
    assert (prepared.facts.width, prepared.facts.height) == (4000, 3000)
    assert "resized from 8000 × 6000 to 4000 × 3000 while decoding" in prepared.summary


@pytest.mark.parametrize("width, height", [(8000, 7990), (7000, 7000), (5100, 5000)])
def test_a_picture_that_decodes_to_too_many_pixels_is_refused_from_its_header(width, height):
    # 8000 × 7990 RGBA: a quarter of a gigabyte decoded, from a PNG of a few hundred kilobytes. With
    # transparency a picture counts twice (flattening it takes a second copy), so 25.5 MP is too many.
    with pytest.raises(image_rules.ImageRuleError) as caught:
        prepare(giant_png(width, height))
    assert caught.value.vendor_message == image_rules.MSG_RESOLUTION
    assert "50 megapixels" in str(caught.value)


def test_a_large_transparent_png_within_the_budget_is_flattened_onto_white():
    prepared = prepare(giant_png(4900, 4900))  # 24 MP of transparent pixels
    assert (prepared.facts.width, prepared.facts.height) == (2450, 2450)
    assert Image.open(io.BytesIO(prepared.data)).convert("RGB").getpixel((10, 10)) == (255, 255, 255)


def test_small_pictures_are_still_refused():
    with pytest.raises(image_rules.ImageRuleError) as caught:
        prepare(encode(Image.new("RGB", (200, 200), "white"), "PNG"))
    assert caught.value.vendor_message == image_rules.MSG_RESOLUTION and "never scaled up" in str(caught.value)


@pytest.mark.parametrize("name, make", [
    ("HEIC", lambda: encode(Image.open(io.BytesIO(face("obama.jpg"))), "HEIF", quality=90)),
    ("WebP", lambda: encode(Image.open(io.BytesIO(face("obama.jpg"))), "WEBP", quality=90)),
    ("6 MB PNG", lambda: grainy_png()),
    ("phone photo", phone_photo),
])
def test_each_kind_of_photo_enrols_and_the_result_says_what_was_done(client, sandbox, face_set, name, make):
    picture = make()
    if name == "6 MB PNG":
        assert len(picture) > 5_000_000
    answer = EnrolPage(client).send(picture, filename="photo.bin", faceSetId=face_set, name=name)
    assert answer.status_code == 303, re.sub(r"\s+", " ", answer.get_data(as_text=True))[-1500:]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    done = re.search(r'id="preparation">What the portal did to it: ([^<]+)\.<', page).group(1)
    assert "re-encoded" in done and "metadata removed" in done
    assert sandbox.store.count_faces(face_set) == 1


def test_turning_preparation_off_sends_only_compliant_originals(app, sandbox, face_set):
    admin = sign_in(app.test_client(), "admin")
    html = admin.get("/admin/settings").get_data(as_text=True)
    assert re.search(r'<input checked id="prepare_pictures"', html)  # on by default
    admin.post("/admin/settings", data={"csrf_token": EnrolPage.hidden(html, "csrf_token")})  # unticked
    refused = EnrolPage(sign_in(app.test_client())).send(phone_photo(), faceSetId=face_set)
    assert refused.status_code == 422 and "File size should be less than 2MB" in refused.get_data(as_text=True)
    assert "PNG or JPEG, below 2 MB" in EnrolPage(sign_in(app.test_client())).open()


def test_heic_support_is_installed():
    assert pillow_heif.__version__


@pytest.mark.parametrize("make, message", [
    (lambda: face("obama.jpg")[:120_000], image_rules.MSG_NOT_IMAGE),
    (lambda: face("32bit.png")[:300_000], image_rules.MSG_NOT_IMAGE),
    (lambda: b"%PDF-1.7 renamed to photo.jpg", image_rules.MSG_NOT_IMAGE),
    (lambda: encode(Image.new("RGB", (300, 300)), "GIF"), image_rules.MSG_NOT_IMAGE),
    (lambda: png_claiming_size(60000, 60000), image_rules.MSG_RESOLUTION),
    (lambda: png_claiming_size(5000, 5000), image_rules.MSG_NOT_IMAGE),  # a 5000 px header on 300 px of data
])
def test_broken_files_are_still_refused_with_the_vendors_words(make, message):
    with pytest.raises(image_rules.ImageRuleError) as caught:
        prepare(make())
    assert caught.value.vendor_message == message


def test_damaged_files_never_crash_the_checks():
    """Cut and scrambled copies of real pictures: refused or accepted, never an unexpected exception."""
    import random

    rng = random.Random(7)
    originals = [face("obama.jpg"), face("32bit.png"), encode(Image.open(io.BytesIO(face("obama.jpg"))), "WEBP")]
    for original in originals:
        for _ in range(25):
            damaged = bytearray(original[: rng.randrange(16, len(original))])
            for _ in range(rng.randrange(0, 6)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            for check in (prepare, image_rules.check_image):
                try:
                    check(bytes(damaged))
                except image_rules.ImageRuleError:
                    pass
