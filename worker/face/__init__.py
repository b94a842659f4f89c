"""Face photo handling for enrolment and check-ins: decoding, detection, pose, quality and templates."""
