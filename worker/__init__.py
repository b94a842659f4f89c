"""FieldCheck's background worker: Celery tasks and beat duties over the same app as the API."""
