"""Dead-letter queues: list them, look at their messages, send messages back to be processed.

A directive or an event ends in a DLQ when its queue's redrive policy gave up on it (a
processor kept failing) or when the dispatcher put it there (the gateway refused it for good).
Once the cause is fixed, ``redrive`` sends it back. Works against AWS and against the local
stack alike (boto3 honours ``AWS_ENDPOINT_URL``).

A deployed stack names its DLQs in its outputs (``OutboxDLQUrl``, ``SyncDirectivesDLQUrl``...,
``PollDLQUrl``): ``stack_dead_letter_queues(stack)`` lists exactly those, and ``queue_url`` takes
their short names (``outbox``, ``sync``, ``async``, ``optimistic``, ``polling``, ``poll``) or
output keys when given the stack.

Example, against moto's SQS in-process (an outbox whose message failed once went to its DLQ)::

    >>> import json
    >>> import boto3
    >>> from moto import mock_aws
    >>> with mock_aws():
    ...     sqs = boto3.client("sqs", region_name="eu-west-1")
    ...     url = sqs.create_queue(QueueName="bulb-skill-outbox-dlq")["QueueUrl"]
    ...     arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    ...     policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": 1}
    ...     outbox = sqs.create_queue(QueueName="bulb-skill-outbox",
    ...                               Attributes={"RedrivePolicy": json.dumps(policy)})["QueueUrl"]
    ...     body = {"user_id": "user-1", "token": "Atza|secret"}
    ...     _ = sqs.send_message(QueueUrl=outbox, MessageBody=json.dumps(body))
    ...     for _ in range(2):  # received, not deleted: the second receive dead-letters it
    ...         _ = sqs.receive_message(QueueUrl=outbox, VisibilityTimeout=0)
    ...     queues = dead_letter_queues("bulb-skill", sqs=sqs)
    ...     letters = peek(url, max_messages=5, sqs=sqs)  # left in place
    ...     result = redrive(url, sqs=sqs)  # back to its one source queue
    ...     after = dead_letter_queues("bulb-skill", sqs=sqs)
    >>> [(q.name, q.messages, q.sources == (outbox,)) for q in queues]
    [('bulb-skill-outbox-dlq', 1, True)]
    >>> [letter.body for letter in letters]  # tokens masked
    [{'user_id': 'user-1', 'token': '***'}]
    >>> result.method, result.moved == [letters[0].message_id], result.source_url == outbox
    ('manual', True, True)
    >>> [q.messages for q in after]
    [0]

(moto has no message move task, so ``redrive`` moved it itself; tests/unit/test_dlq.py covers
FIFO queues, chosen messages and the move task.)

- ``peek`` receives with a visibility timeout of 0: nothing is hidden or deleted, but each look
  counts as a receive (``ApproximateReceiveCount``). SQS returns a sample: a standard queue may
  need several rounds to show every message; a FIFO queue shows the oldest messages of each
  message group.
- ``redrive`` of a whole queue starts an SQS message move task (``StartMessageMoveTask``,
  asynchronous, done by SQS) when the endpoint supports it; otherwise (moto, the local stack)
  and for chosen messages it moves them itself: receive, send to the source, then delete, so a
  crash in between duplicates a message rather than losing it. For FIFO queues the message group
  is kept (ordering per bulb); the deduplication id is ``redrive-<DLQ message id>``: stable for
  one dead letter, so a repeated redrive of it within five minutes is dropped by SQS, and never
  equal to the original send's id, which SQS would silently drop as a duplicate if the message
  went to the DLQ less than five minutes ago.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DeadLetter",
    "DeadLetterQueue",
    "DlqError",
    "RedriveResult",
    "dead_letter_queues",
    "mask",
    "peek",
    "queue_url",
    "redrive",
    "stack_dead_letter_queues",
    "stack_dlq_urls",
]

logger = logging.getLogger(__name__)

#: Keys whose values are never shown (at any depth of a JSON body).
SECRET_KEYS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "code",
        "accessToken",
        "refreshToken",
        "vendor_token",
        "grant_code",
        "client_secret",
        "secret",
        "password",
        "authorization",
    }
)
MASK = "***"
_DLQ_NAME = re.compile(r"(dlq|dead[-_]?letter)", re.IGNORECASE)
#: Visibility while ``redrive`` works on a message (it is deleted or released well before).
REDRIVE_VISIBILITY_SECONDS = 60
#: ``peek`` stops after this many receives that show nothing new.
_PEEK_IDLE_ROUNDS = 2


class DlqError(Exception):
    """A DLQ operation that cannot be done as asked (no or several source queues...)."""


@dataclass(frozen=True, slots=True)
class DeadLetterQueue:
    url: str
    name: str
    arn: str
    fifo: bool
    messages: int  # approximate: visible
    in_flight: int  # approximate: received and not yet deleted or released
    sources: tuple[str, ...]  # URLs of the queues whose redrive policy targets it

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "fifo": self.fifo,
            "messages": self.messages,
            "in_flight": self.in_flight,
            "sources": list(self.sources),
        }


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message of a DLQ, as it may be shown: body parsed when it is JSON, secrets masked."""

    message_id: str
    body: Any
    attributes: Mapping[str, str] = field(default_factory=dict)  # SentTimestamp, MessageGroupId...
    message_attributes: Mapping[str, str] = field(default_factory=dict)  # Reason, GatewayStatus...

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "attributes": dict(self.attributes),
            "message_attributes": dict(self.message_attributes),
            "body": self.body,
        }


@dataclass(slots=True)
class RedriveResult:
    dlq_url: str
    source_url: str
    method: str  # "move-task" or "manual"
    moved: list[str] = field(default_factory=list)  # DLQ message ids sent back (manual)
    failed: dict[str, str] = field(default_factory=dict)  # message id -> why (left in the DLQ)
    not_found: list[str] = field(default_factory=list)  # asked-for ids not seen in the DLQ
    task_handle: str | None = None  # move-task: SQS moves the messages after this returns
    approximate: int = 0  # move-task: messages in the DLQ when it started

    def to_dict(self) -> dict[str, Any]:
        return {
            "dlq": self.dlq_url,
            "to": self.source_url,
            "method": self.method,
            "moved": self.moved,
            "failed": self.failed,
            "not_found": self.not_found,
            "task_handle": self.task_handle,
            "approximate_messages": self.approximate,
        }


# -- listing -----------------------------------------------------------------------------------


def dead_letter_queues(prefix: str = "", *, sqs: Any = None) -> list[DeadLetterQueue]:
    """Every DLQ whose name starts with ``prefix``: queues some queue's redrive policy targets,
    and queues named like one (``...-dlq``, ``...DeadLetter...``)."""
    sqs = sqs or _client()
    found: list[DeadLetterQueue] = []
    for url in _queue_urls(sqs, prefix):
        sources = tuple(_sources(sqs, url))
        if not sources and not _DLQ_NAME.search(_name(url)):
            continue
        found.append(_describe(sqs, url, sources))
    return sorted(found, key=lambda q: q.name)


def stack_dlq_urls(stack: str, *, cloudformation: Any = None) -> dict[str, str]:
    """A deployed stack's DLQs from its outputs: short name (``outbox``, ``sync``...) -> URL."""
    cloudformation = cloudformation or _client("cloudformation")
    try:
        [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except Exception as exc:  # ValidationError: no such stack (in this region)
        raise DlqError(f"stack {stack}: {_why(exc)} (wrong name or region?)") from exc
    urls = {
        _short(output["OutputKey"]): output["OutputValue"]
        for output in described.get("Outputs", [])
        if output["OutputKey"].endswith("DLQUrl")
    }
    if not urls:
        raise DlqError(f"stack {stack} has no DLQ outputs (deployed from an older template?)")
    return urls


def stack_dead_letter_queues(
    stack: str, *, cloudformation: Any = None, sqs: Any = None
) -> list[DeadLetterQueue]:
    """The DLQs a deployed stack's outputs name, with their sources and message counts."""
    sqs = sqs or _client()
    urls = stack_dlq_urls(stack, cloudformation=cloudformation)
    return sorted(
        (_describe(sqs, url, tuple(_sources(sqs, url))) for url in urls.values()),
        key=lambda q: q.name,
    )


def _short(output_key: str) -> str:
    """``OutboxDLQUrl`` -> ``outbox``, ``SyncDirectivesDLQUrl`` -> ``sync``, ``PollDLQUrl`` ->
    ``poll``."""
    return output_key.removesuffix("DLQUrl").removesuffix("Directives").lower()


def queue_url(
    name_or_url: str, *, sqs: Any = None, stack: str | None = None, cloudformation: Any = None
) -> str:
    """The URL of a queue given by name or URL, or, with ``stack``, by the short name of one of
    the stack's DLQs (``outbox``, ``sync``...) or its output key (``OutboxDLQUrl``)."""
    if re.match(r"^https?://", name_or_url):
        return name_or_url
    if stack:
        urls = stack_dlq_urls(stack, cloudformation=cloudformation)
        wanted = _short(name_or_url) if name_or_url.endswith("DLQUrl") else name_or_url.lower()
        if wanted in urls:
            return urls[wanted]
        for url in urls.values():
            if _name(url) == name_or_url:
                return url
        raise DlqError(
            f"stack {stack} has no DLQ {name_or_url!r}; it has: {', '.join(sorted(urls))}"
        )
    sqs = sqs or _client()
    try:
        return str(sqs.get_queue_url(QueueName=name_or_url)["QueueUrl"])
    except Exception as exc:  # QueueDoesNotExist and friends
        raise DlqError(f"no queue named {name_or_url!r}") from exc


# -- looking -----------------------------------------------------------------------------------


def peek(queue_url: str, max_messages: int = 10, *, sqs: Any = None) -> list[DeadLetter]:
    """Up to ``max_messages`` messages of the queue, left in place (visibility timeout 0)."""
    sqs = sqs or _client()
    seen: dict[str, DeadLetter] = {}
    idle = 0
    while len(seen) < max_messages and idle < _PEEK_IDLE_ROUNDS:
        batch = _receive(sqs, queue_url, min(10, max_messages - len(seen)), visibility=0)
        new = [m for m in batch if m["MessageId"] not in seen]
        idle = idle + 1 if not new else 0
        for message in new[: max_messages - len(seen)]:
            seen[message["MessageId"]] = _letter(message)
        if not batch:
            break
    return list(seen.values())


def mask(value: Any) -> Any:
    """A copy of a JSON value with the values of ``SECRET_KEYS`` replaced, at any depth; a
    string holding a JSON object or array is parsed and masked too."""
    if isinstance(value, Mapping):
        return {
            k: (MASK if k in SECRET_KEYS and v not in (None, "") else mask(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return mask(json.loads(value))
        except ValueError:
            return value
    return value


# -- redriving ---------------------------------------------------------------------------------


def redrive(
    dlq_url: str,
    source_url: str | None = None,
    message_ids: Iterable[str] | None = None,
    *,
    sqs: Any = None,
    method: str = "auto",
) -> RedriveResult:
    """Send the DLQ's messages (or only ``message_ids``) back to ``source_url`` (default: the
    one queue whose redrive policy targets this DLQ).

    ``method``: ``"auto"`` (a move task for a whole queue when the endpoint has it, else
    manual), ``"move-task"`` or ``"manual"``.
    """
    if method not in ("auto", "move-task", "manual"):
        raise ValueError(f"unknown redrive method {method!r}")
    sqs = sqs or _client()
    wanted = set(message_ids) if message_ids is not None else None
    if wanted is not None and method == "move-task":
        raise DlqError("a move task moves a whole queue; chosen messages are moved manually")
    source = source_url or _only_source(sqs, dlq_url)
    if wanted is None and method in ("auto", "move-task"):
        started = _start_move_task(sqs, dlq_url, source, required=method == "move-task")
        if started is not None:
            return started
    return _redrive_manually(sqs, dlq_url, source, wanted)


def _start_move_task(
    sqs: Any, dlq_url: str, source: str, *, required: bool
) -> RedriveResult | None:
    dlq = _attributes(sqs, dlq_url, "QueueArn", "ApproximateNumberOfMessages")
    destination = _attributes(sqs, source, "QueueArn")["QueueArn"]
    try:
        answer = sqs.start_message_move_task(SourceArn=dlq["QueueArn"], DestinationArn=destination)
    except Exception as exc:  # NotImplementedError (moto), ClientError (unsupported, denied...)
        if required:
            raise
        logger.info("no message move task (%s): moving the messages one by one", _why(exc))
        return None
    return RedriveResult(
        dlq_url=dlq_url,
        source_url=source,
        method="move-task",
        task_handle=answer.get("TaskHandle"),
        approximate=int(dlq.get("ApproximateNumberOfMessages", 0)),
    )


def _redrive_manually(
    sqs: Any, dlq_url: str, source: str, wanted: set[str] | None
) -> RedriveResult:
    result = RedriveResult(dlq_url=dlq_url, source_url=source, method="manual")
    fifo = source.endswith(".fifo")
    held: dict[
        str, str
    ] = {}  # skipped or failed: message id -> receipt handle, released at the end
    try:
        while wanted is None or len(result.moved) + len(result.failed) < len(wanted):
            batch = _receive(sqs, dlq_url, 10, visibility=REDRIVE_VISIBILITY_SECONDS)
            fresh = [m for m in batch if m["MessageId"] not in held]
            if not fresh:
                break
            for message in fresh:
                message_id = message["MessageId"]
                if wanted is not None and message_id not in wanted:
                    held[message_id] = message["ReceiptHandle"]
                    continue
                try:
                    sqs.send_message(**_resend(message, source, fifo))
                except Exception as exc:  # noqa: BLE001 - left in the DLQ, visible again at the end
                    result.failed[message_id] = _why(exc)
                    held[message_id] = message["ReceiptHandle"]
                    continue
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                result.moved.append(message_id)
    finally:
        for handle in held.values():
            _release(sqs, dlq_url, handle)
    if wanted is not None:
        result.not_found = sorted(wanted - set(result.moved) - set(result.failed))
    return result


def _resend(message: Mapping[str, Any], source: str, fifo: bool) -> dict[str, Any]:
    """SendMessage arguments that put a dead letter back on ``source`` as it was sent."""
    request: dict[str, Any] = {"QueueUrl": source, "MessageBody": message["Body"]}
    attributes = {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    if attributes:
        request["MessageAttributes"] = attributes
    if fifo:
        system = message.get("Attributes") or {}
        request["MessageGroupId"] = system.get("MessageGroupId") or "redrive"
        request["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"[:128]
    return request


# -- helpers -----------------------------------------------------------------------------------


def _client(service: str = "sqs") -> Any:
    from skill.aws import client

    return client(service)


#: SQS pages these lists only when asked for a page size (else the first 1000, no token).
_PAGES = {"PaginationConfig": {"PageSize": 1000}}


def _queue_urls(sqs: Any, prefix: str) -> list[str]:
    named = {"QueueNamePrefix": prefix} if prefix else {}
    pages = sqs.get_paginator("list_queues").paginate(**named, **_PAGES)
    return [url for page in pages for url in page.get("QueueUrls", [])]


def _sources(sqs: Any, url: str) -> list[str]:
    pages = sqs.get_paginator("list_dead_letter_source_queues").paginate(QueueUrl=url, **_PAGES)
    return [source for page in pages for source in page.get("queueUrls", [])]


def _only_source(sqs: Any, dlq_url: str) -> str:
    sources = _sources(sqs, dlq_url)
    if len(sources) != 1:
        what = (
            "no queue sends its dead letters here"
            if not sources
            else f"{len(sources)} queues send their dead letters here"
        )
        raise DlqError(f"{_name(dlq_url)}: {what}; name the queue to send them to")
    return sources[0]


def _attributes(sqs: Any, url: str, *names: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))["Attributes"])


def _describe(sqs: Any, url: str, sources: tuple[str, ...]) -> DeadLetterQueue:
    attributes = _attributes(
        sqs,
        url,
        "QueueArn",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "FifoQueue",
    )
    return DeadLetterQueue(
        url=url,
        name=_name(url),
        arn=attributes.get("QueueArn", ""),
        fifo=attributes.get("FifoQueue", "false") == "true",
        messages=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        sources=sources,
    )


def _receive(sqs: Any, url: str, count: int, *, visibility: int) -> list[dict[str, Any]]:
    answer = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max(1, min(10, count)),
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(answer.get("Messages", []))


def _release(sqs: Any, url: str, receipt_handle: str) -> None:
    try:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
        )
    except Exception as exc:  # noqa: BLE001 - it reappears when its visibility timeout ends anyway
        logger.warning("could not release a dead letter: %s", _why(exc))


def _letter(message: Mapping[str, Any]) -> DeadLetter:
    text = message.get("Body", "")
    try:
        body: Any = mask(json.loads(text))
    except ValueError:
        body = text
    system = message.get("Attributes") or {}
    shown = (
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "MessageGroupId",
        "MessageDeduplicationId",
        "DeadLetterQueueSourceArn",
    )
    custom = {
        name: str(value.get("StringValue", value.get("BinaryValue", "")))
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return DeadLetter(
        message_id=message["MessageId"],
        body=body,
        attributes={k: system[k] for k in shown if k in system},
        message_attributes=mask(custom),
    )


def _name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _why(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{type(exc).__name__}: {code}" if code else type(exc).__name__
