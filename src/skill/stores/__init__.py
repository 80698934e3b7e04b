"""DynamoDB- and SQS-backed implementations of the core's ports."""

from skill.stores._queues import SqsDirectiveQueue, SqsOutbox
from skill.stores._tokens import DynamoTokenStore

__all__ = ["DynamoTokenStore", "SqsDirectiveQueue", "SqsOutbox"]
