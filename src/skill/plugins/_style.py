"""The style of a vendor's API: which processor runs its adapter (its own module, so that the
configuration and the ports can name a style without loading the adapter contract)."""

from enum import StrEnum


class Style(StrEnum):
    """How the vendor's API answers a command; decides which processor runs the adapter."""

    SYNC = "sync"  # the answer carries the new state
    ASYNC = "async"  # 202 now, the new state arrives later on a webhook
    OPTIMISTIC = "optimistic"  # 202 now, no push: trust it and answer from the expected state
    POLLING = "polling"  # 202 now, no push: read the state until it converges
