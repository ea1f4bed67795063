"""The one error of the consortium: what went wrong, said so that no firm's identity is in the message.

A message may name the acting member (it is talking to itself), a tender, a lot, or a pseudonym; never
another firm's name, address or id.
"""


class ConsortiumError(ValueError):
    """An operation that cannot be done; the message is safe to show to the member who asked."""
