"""Home visits: records from offline devices, edits and sync, photos, fraud signals, findings, staff views.

One module per concern; the public names are re-exported here, so callers keep `visits.record_visit`.
"""

from server.services.visits.checklist import CHECKLIST_VERSIONS, EDITABLE_FIELDS, HOUSEHOLD_OUTCOMES
from server.services.visits.photos import add_photos, read_photo
from server.services.visits.reads import (
    LIST_ORDER,
    beneficiary_visits,
    get_visit,
    list_visits,
    photos_of,
    shown_to,
    views,
)
from server.services.visits.recording import NOT_IN_YOUR_REGION, ItemResult, record_visit
from server.services.visits.sync import (
    BatchItem,
    PayloadTooLarge,
    check_batch_size,
    edit_by_client_id,
    edit_visit,
    sync_batch,
)
from server.services.visits.team_stats import team_stats

__all__ = [
    "CHECKLIST_VERSIONS",
    "EDITABLE_FIELDS",
    "HOUSEHOLD_OUTCOMES",
    "LIST_ORDER",
    "NOT_IN_YOUR_REGION",
    "BatchItem",
    "ItemResult",
    "PayloadTooLarge",
    "add_photos",
    "beneficiary_visits",
    "check_batch_size",
    "edit_by_client_id",
    "edit_visit",
    "get_visit",
    "list_visits",
    "photos_of",
    "read_photo",
    "record_visit",
    "shown_to",
    "sync_batch",
    "team_stats",
    "views",
]
