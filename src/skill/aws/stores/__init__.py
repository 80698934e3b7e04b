"""DynamoDB- and SQS-backed implementations of the core's ports."""

from skill.aws.stores._credentials import DynamoCredentialVault
from skill.aws.stores._pushes import DynamoPushLog
from skill.aws.stores._queues import SqsDirectiveQueue, SqsOutbox, SqsPollQueue, SqsSweepQueue
from skill.aws.stores._state import DynamoStateStore
from skill.aws.stores._tokens import DynamoTokenStore

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
