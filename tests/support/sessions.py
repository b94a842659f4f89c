"""The shipped synthetic-session generator (worker/face/synthetic.py), taking the suite's photo names.

Every builder there takes a photo as bytes or a path; here a name from tests/support/photos.py
("obama3.jpg") is resolved to the cached photo first.
"""

from __future__ import annotations

import functools

from tests.support.photos import PHOTO_NAMES, photos_dir
from worker.face import synthetic
from worker.face.synthetic import Light, SyntheticFrame, decoded, lit_by

__all__ = [
    "Light",
    "SyntheticFrame",
    "animated_photo_session",
    "decoded",
    "genuine_session",
    "jittered_photo_session",
    "lit_by",
    "out_of_order_session",
    "printed_photo_session",
    "prompts_ignored_session",
    "recoloured_photo_session",
    "replayed_session",
    "screen_recording_session",
    "spliced_session",
    "still_photo_session",
    "tagged_still_session",
    "tilted_photo_session",
    "with_light_phase",
]


def _photo(value):
    return photos_dir() / value if isinstance(value, str) and value in PHOTO_NAMES else value


def _named(builder):
    @functools.wraps(builder)
    def build(*args, **kwargs):
        count = 2 if builder is synthetic.spliced_session else 1
        return builder(*[_photo(a) for a in args[:count]], *args[count:], **kwargs)

    return build


animated_photo_session = _named(synthetic.animated_photo_session)
genuine_session = _named(synthetic.genuine_session)
jittered_photo_session = _named(synthetic.jittered_photo_session)
out_of_order_session = _named(synthetic.out_of_order_session)
printed_photo_session = _named(synthetic.printed_photo_session)
prompts_ignored_session = _named(synthetic.prompts_ignored_session)
recoloured_photo_session = _named(synthetic.recoloured_photo_session)
replayed_session = _named(synthetic.replayed_session)
screen_recording_session = _named(synthetic.screen_recording_session)
spliced_session = _named(synthetic.spliced_session)
still_photo_session = _named(synthetic.still_photo_session)
tagged_still_session = _named(synthetic.tagged_still_session)
tilted_photo_session = _named(synthetic.tilted_photo_session)
with_light_phase = synthetic.with_light_phase
