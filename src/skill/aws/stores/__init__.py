"""DynamoDB- and SQS-backed implementations of the core's ports.

Each store loads its module on first use (``skill._lazy``): the sweep's scheduler, which needs
the state table and a queue, does not load the vault's or the token table's models.
"""

from typing import TYPE_CHECKING

from skill._lazy import lazy_exports

if TYPE_CHECKING:
    from skill.aws.stores._credentials import DynamoCredentialVault
    from skill.aws.stores._pushes import DynamoPushLog
    from skill.aws.stores._queues import SqsDirectiveQueue, SqsOutbox, SqsPollQueue, SqsSweepQueue
    from skill.aws.stores._state import DynamoStateStore
    from skill.aws.stores._tokens import DynamoTokenStore

__getattr__ = lazy_exports(
    __name__,
    {
        "DynamoCredentialVault": "_credentials",
        "DynamoPushLog": "_pushes",
        "DynamoStateStore": "_state",
        "DynamoTokenStore": "_tokens",
        "SqsDirectiveQueue": "_queues",
        "SqsOutbox": "_queues",
        "SqsPollQueue": "_queues",
        "SqsSweepQueue": "_queues",
    },
)

__all__ = [
    "DynamoCredentialVault",
    "DynamoPushLog",
    "DynamoStateStore",
    "DynamoTokenStore",
    "SqsDirectiveQueue",
    "SqsOutbox",
    "SqsPollQueue",
    "SqsSweepQueue",
]
