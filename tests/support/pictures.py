"""Pictures made by the tests: odd sizes, broken files, bombs."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt="JPEG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def plain(width: int, height: int, fmt="JPEG", color=(120, 160, 200)) -> bytes:
    return encode(Image.new("RGB", (width, height), color), fmt)


def noise(width: int, height: int, fmt="PNG", seed=1) -> bytes:
    """Random pixels: incompressible, so the file is about width*height*3 bytes as PNG."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels), fmt)


def truncated(picture: bytes, keep: float = 0.5) -> bytes:
    return picture[: int(len(picture) * keep)]


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: a decompression bomb's calling card."""
    original = plain(300, 300, "PNG")
    ihdr_start = 8 + 8  # signature, then length + type of the IHDR chunk
    ihdr = bytearray(original[ihdr_start: ihdr_start + 13])
    ihdr[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return original[:ihdr_start] + bytes(ihdr) + crc + original[ihdr_start + 13 + 4:]


def sample(name: str, fmt="JPEG") -> bytes:
    """A scikit-image sample picture (coffee, chelsea, astronaut) scaled to at least 256 px."""
    import skimage.data

    image = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
    if min(image.size) < 256:
        scale = 256 / min(image.size)
        image = image.resize((round(image.width * scale) + 1, round(image.height * scale) + 1))
    return encode(image, fmt, quality=92) if fmt == "JPEG" else encode(image, fmt)


def giant_png(width: int, height: int) -> bytes:
    """A valid, fully decodable RGBA PNG of width x height transparent pixels that compresses to a few
    hundred kilobytes: what a hostile upload of "a small file" can decode to. Made row by row, so the
    test never holds the pixels itself."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes(width * 4)  # filter type 0, then RGBA zeros
    body = bytearray()
    for _ in range(height):
        body += compressor.compress(row)
    body += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b"")


def side_by_side(*pictures: bytes, height: int = 600) -> bytes:
    """One JPEG of several photos put next to each other at the same height: a picture of that many people."""
    images = [Image.open(io.BytesIO(data)).convert("RGB") for data in pictures]
    images = [image.resize((round(image.width * height / image.height), height)) for image in images]
    canvas = Image.new("RGB", (sum(image.width for image in images), height), "white")
    left = 0
    for image in images:
        canvas.paste(image, (left, 0))
        left += image.width
    return encode(canvas)
