"""The operations of the consortium, as the command line and the web portal call them.

Every function is keyword-only and returns a public shape of `views`, never a table row; those given to a
member (`member_view`, `partner_search`, `request_reveal`, `answer_reveal`, `record_interest`,
`withdraw_interest`) hold no identity of a firm not revealed to it. Errors are `ConsortiumError`s whose
message is safe to show to the member who acted.
"""

from .catalogue import catalogue_of, set_catalogue
from .errors import ConsortiumError
from .groups import add_firm, add_note, create_group, group_view, list_groups, remove_firm, set_status
from .interests import member_view, record_interest, staff_view, withdraw_interest
from .reveal import (
    answer_reveal,
    mark_reveal_notifications_sent,
    pending_reveal_notifications,
    request_reveal,
    reveal_log,
)
from .search import partner_search, staff_partner_search

__all__ = [
    "ConsortiumError",
    "add_firm",
    "add_note",
    "answer_reveal",
    "catalogue_of",
    "create_group",
    "group_view",
    "list_groups",
    "mark_reveal_notifications_sent",
    "member_view",
    "partner_search",
    "pending_reveal_notifications",
    "record_interest",
    "remove_firm",
    "request_reveal",
    "reveal_log",
    "set_catalogue",
    "set_status",
    "staff_partner_search",
    "staff_view",
    "withdraw_interest",
]
