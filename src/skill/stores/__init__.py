"""DynamoDB- and SQS-backed implementations of the core's ports."""

from skill.stores._credentials import DynamoCredentialVault
from skill.stores._pending import DynamoPendingStore
from skill.stores._pushes import DynamoPushLog
from skill.stores._queues import SqsDirectiveQueue, SqsOutbox, SqsPollQueue, SqsSweepQueue
from skill.stores._tokens import DynamoTokenStore

__all__ = ["DynamoCredentialVault", "DynamoPendingStore", "DynamoPushLog", "DynamoTokenStore", "SqsDirectiveQueue", "SqsOutbox", "SqsPollQueue", "SqsSweepQueue"]
