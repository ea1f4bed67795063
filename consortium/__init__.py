"""The consortium: anonymous interest in tenders, partner search, mutual reveal, partner groups.

Reads the notice store (crawlers) and the members (watch); never imports notifications. The operations
are in `consortium.services`; what they return is in `consortium.views`.
"""
