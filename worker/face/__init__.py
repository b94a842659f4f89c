"""Face photo handling for enrolment and check-ins: decoding, detection, pose, quality and templates."""

import warnings

# face_recognition_models still imports pkg_resources (hence setuptools<81); its deprecation
# warning says nothing a FieldCheck operator can act on.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
