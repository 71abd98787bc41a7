"""How much picture the portal decodes: per picture, and at once in one process.

A compressed picture says nothing about the memory its pixels take: a 264 KB PNG can hold
8000 × 7990 RGBA pixels, a quarter of a gigabyte once decoded. So every decode first
reserves its pixel count from one budget per process, and waits (a bounded time) while
other decodes hold it; a picture that alone exceeds PICTURE_MAX_PIXELS is refused from its
header, never decoded. A large JPEG is decoded at a reduced scale instead (libjpeg can
decode at 1/2, 1/4 or 1/8 directly), so a 48-megapixel phone photo costs 12.
"""
from __future__ import annotations

import ctypes
import threading
from contextlib import contextmanager

# Defaults; create_app applies the PICTURE_* settings with ``configure``.
MAX_PIXELS = 50_000_000  # per picture, as decoded: a 48 MP HEIC from a phone fits
BUDGET_PIXELS = 50_000_000  # decoded at once by one process, all threads together (about 400 MB at worst)
WAIT_SECONDS = 20.0  # how long a decode waits for room before the request is told to try again
BUSY_MESSAGE = ("The portal is busy decoding other large pictures right now. Send the form again in a "
                "moment; nothing was sent to the vendor.")


TRIM_FROM_PIXELS = 4_000_000


def _give_memory_back() -> None:
    """Return freed memory to the system after a large decode. glibc keeps what a thread freed in that
    thread's arena, and with dozens of server threads each large decode would otherwise leave its
    hundreds of megabytes behind in another arena: the process would only ever grow."""
    if _libc is not None:
        _libc.malloc_trim(0)


try:
    _libc = ctypes.CDLL("libc.so.6")
    _libc.malloc_trim  # noqa: B018  (glibc only; elsewhere nothing to do)
except (OSError, AttributeError):
    _libc = None


class DecodeBusy(Exception):
    """No room in the budget within WAIT_SECONDS (ImageRuleError subclasses it in image_rules)."""


class PixelBudget:
    """A counting semaphore measured in pixels."""

    def __init__(self, total: int):
        self.total = total
        self.free = total
        self.condition = threading.Condition()

    @contextmanager
    def reserve(self, pixels: int, wait_seconds: float):
        pixels = max(1, min(pixels, self.total))  # one picture never waits for more than exists
        with self.condition:
            if not self.condition.wait_for(lambda: self.free >= pixels, timeout=wait_seconds):
                raise DecodeBusy(BUSY_MESSAGE)
            self.free -= pixels
        try:
            yield
        finally:
            with self.condition:
                self.free += pixels
                self.condition.notify_all()
            if pixels >= TRIM_FROM_PIXELS:
                _give_memory_back()


budget = PixelBudget(BUDGET_PIXELS)


def configure(max_pixels: int, budget_pixels: int, wait_seconds: float) -> None:
    """Apply the settings (once, when the app is made)."""
    global MAX_PIXELS, WAIT_SECONDS, budget
    MAX_PIXELS = min(max_pixels, budget_pixels)
    WAIT_SECONDS = wait_seconds
    if budget.total != budget_pixels:
        budget = PixelBudget(budget_pixels)


def reserved(pixels: int):
    """``with reserved(w * h):`` around a decode and the work done on its pixels."""
    return budget.reserve(pixels, WAIT_SECONDS)


def jpeg_draft_size(width: int, height: int, long_side: int, short_side: int) -> tuple[int, int] | None:
    """The size to ask libjpeg for so the decoded picture keeps at least ``long_side`` px on its long side
    and ``short_side`` on its short one (draft only ever scales by 1/2, 1/4 or 1/8, never below the size
    asked); None when no reduction is possible."""
    scale = max(long_side / max(width, height), short_side / min(width, height))
    if scale >= 0.5:
        return None
    return max(1, int(width * scale + 0.999)), max(1, int(height * scale + 0.999))
