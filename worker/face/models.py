"""dlib's face detector and landmark predictors, loaded on first use and then kept for the process.

Importing face_recognition reads every model it ships (about 100 MB, seconds on a cold disk), and
OpenCV and dlib are large native libraries: a command or an API worker that does no face work must
not pay for them, so the face library imports them in the functions that use them, never at module
level (tests/test_layering.py holds that for the app and the CLI).
"""

from __future__ import annotations

from functools import cache
from types import ModuleType


@cache
def face_models() -> ModuleType:
    """face_recognition's api module, whose detector and predictors are loaded once per process."""
    import face_recognition.api as fr_api
    from PIL import ImageFile

    # Importing face_recognition switches Pillow to accepting truncated files; undo that process-wide.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return fr_api
