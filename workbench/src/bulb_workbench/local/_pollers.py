"""Feed queue messages to the Lambda handlers the way Lambda's SQS event source mapping does.

One thread per queue: receive (short long-poll), build the SQS event exactly as Lambda does,
call the handler with a fake Lambda context, delete what succeeded, and make what failed
visible again after ``retry_after`` seconds (Lambda waits for the queue's visibility timeout;
locally that would make a retry take a minute). A handler that raises fails the whole batch, as
in Lambda. With ``ReportBatchItemFailures`` an identifier that is not in the batch fails the
whole batch too; without it, the response is ignored.

A handler module that does not exist yet (``ModuleNotFoundError`` for that module) leaves its
messages queued: the poller says so once on stderr and waits for it.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulb_workbench.local._resources import ACCOUNT_ID, REGION

_log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]


class HandlerMissing(LookupError):
    """The handler's module is not there (yet)."""


#: Handler modules are imported one at a time: two threads importing modules that import each
#: other can deadlock (Python raises ``_DeadlockError`` then).
_IMPORT_LOCK = threading.RLock()


def load_handler(path: str) -> Handler:
    """``skill.handlers.processors.sync.handler`` -> the function; ``HandlerMissing`` when the
    module itself (not one of its imports) does not exist."""
    module_name, _, attribute = path.rpartition(".")
    module = sys.modules.get(module_name)
    if module is not None:
        try:
            return getattr(module, attribute)
        except AttributeError:
            raise HandlerMissing(f"{module_name} has no {attribute}") from None
    try:
        with _IMPORT_LOCK:
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise HandlerMissing(f"{module_name} does not exist yet") from None
        raise
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise HandlerMissing(f"{module_name} has no {attribute}") from None


def handler_available(path: str) -> bool:
    try:
        load_handler(path)
    except HandlerMissing:
        return False
    except Exception:  # it exists but fails to import: the poller reports that
        return True
    return True


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools use."""

    function_name: str
    timeout: float = 30.0
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout - (time.monotonic() - self._started)) * 1000))


def sqs_event(messages: list[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Lambda's event for a batch received from SQS (``ReceiveMessage`` output -> records)."""
    return {"Records": [_record(m, queue_arn) for m in messages]}


def _record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value.get("DataType", "String"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody")
        or hashlib.md5(message.get("Body", "").encode()).hexdigest(),  # noqa: S324 - SQS's checksum, not security
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
    for name, value in list(record["messageAttributes"].items()):
        record["messageAttributes"][name] = {k: v for k, v in value.items() if v is not None}
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


@dataclass
class PollerStats:
    batches: int = 0
    records: int = 0
    failed: int = 0
    errors: int = 0


class QueuePoller:
    """One queue -> one handler, until ``signal_stop``.

    One thread receives; up to ``concurrency`` batches are in the handler at once, each on its
    own worker thread, as Lambda's event source mapping scales out. A single receiver also keeps
    moto's FIFO semantics honest: moto decides which message groups are locked when a receive
    call *starts*, so concurrent long polls could hand out a bulb's next command while its
    previous one is still in a handler. While any batch of a FIFO queue is in a handler, the
    receiver short-polls (every ``idle_sleep`` s) so a group is unlocked as soon as its message
    is deleted, as in SQS; otherwise it long-polls for ``wait_seconds``. A queue whose messages
    are sent with ``DelaySeconds`` (``delayed=True``, the poll queue) is always short-polled:
    moto's long poll wakes only when a message is *sent*, not when a delay ends, so a delayed
    message would wait for the next long poll (up to ``wait_seconds`` late) where SQS hands it
    out as soon as its delay is over.
    """

    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: str,
        function_name: str,
        timeout: float = 30.0,
        batch_size: int = 10,
        report_batch_item_failures: bool = True,
        retry_after: int = 1,
        wait_seconds: int = 1,
        idle_sleep: float = 0.05,
        concurrency: int = 4,
        fifo: bool = False,
        delayed: bool = False,
        loader: Callable[[str], Handler] = load_handler,
    ) -> None:
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler_path = handler
        self.function_name = function_name
        self.timeout = timeout
        self.batch_size = max(1, min(10, batch_size))
        self.report_batch_item_failures = report_batch_item_failures
        self.retry_after = retry_after
        self.wait_seconds = wait_seconds
        self.idle_sleep = idle_sleep
        self.concurrency = max(1, concurrency)
        self.fifo = fifo or queue_url.endswith(".fifo")
        self.delayed = delayed
        self.stats = PollerStats()
        self._sqs = sqs
        self._loader = loader
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._lock = threading.Condition()
        self._in_handler = 0
        self._receiving = False
        self._missing_reported = False
        self.missing = False
        self._thread = threading.Thread(
            target=self._run, name=f"poller:{function_name}", daemon=True
        )

    def start(self) -> QueuePoller:
        self._thread.start()
        return self

    def signal_stop(self) -> None:
        with self._lock:
            self._stop.set()
            self._lock.notify_all()

    def join(self, timeout: float = 10.0) -> None:
        """Wait for batches in a handler to finish; a receive still waiting on SQS ends by
        itself within ``wait_seconds`` and gives back what it got, without a handler call."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._in_handler and time.monotonic() < deadline:
                self._lock.wait(max(0.0, deadline - time.monotonic()))

    def pause(self, paused: bool = True) -> None:
        """Stop (or resume) handing messages to the handler; they stay on the queue."""
        with self._lock:
            if paused:
                self._paused.set()
            else:
                self._paused.clear()
            self._lock.notify_all()

    @property
    def busy(self) -> bool:
        """True while a batch is in the handler."""
        with self._lock:
            return self._in_handler > 0

    @property
    def holding(self) -> bool:
        """True while a receive is under way or a batch is in the handler."""
        with self._lock:
            return self._in_handler > 0 or self._receiving

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._paused.is_set():
                self._stop.wait(0.05)
                continue
            try:
                handler = self._loader(self.handler_path)
            except HandlerMissing as exc:
                self.missing = True
                if not self._missing_reported:
                    self._missing_reported = True
                    print(
                        f"local stack: {self.handler_path} is not there yet ({exc}); "
                        f"messages stay on {self.queue_url.rsplit('/', 1)[-1]}",
                        file=sys.stderr,
                    )
                self._stop.wait(0.5)
                continue
            except Exception:
                self._report("could not import", None)
                self._stop.wait(1.0)
                continue
            self.missing = False
            try:
                self._poll_once(handler)
            except Exception:
                if not self._stop.is_set():
                    _log.exception("poller for %s failed; retrying", self.function_name)
                    self._stop.wait(0.5)

    def _poll_once(self, handler: Handler) -> None:
        with self._lock:  # wait for a free worker; pause() and signal_stop() notify
            while self._in_handler >= self.concurrency and not self._stop.is_set():
                self._lock.wait(0.1)
            if self._paused.is_set() or self._stop.is_set():
                return
            short = self.delayed or (self.fifo and self._in_handler > 0)
            self._receiving = True
        try:
            answer = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                WaitTimeSeconds=0 if short else self.wait_seconds,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages = answer.get("Messages") or []
            with self._lock:
                keep = bool(messages) and not (self._paused.is_set() or self._stop.is_set())
                if keep:
                    self._in_handler += 1
            if messages and not keep:  # paused or stopped meanwhile: give them back at once
                self._change_visibility(messages, 0)
        finally:
            with self._lock:
                self._receiving = False
        if keep:
            worker = threading.Thread(
                target=self._work,
                args=(handler, messages),
                name=f"{self.function_name}:batch",
                daemon=True,
            )
            worker.start()
        elif short:
            self._stop.wait(self.idle_sleep)

    def _work(self, handler: Handler, messages: list[dict[str, Any]]) -> None:
        try:
            self._deliver(handler, messages)
        except Exception:  # deleting or releasing failed: SQS redelivers after the timeout
            _log.exception("poller for %s could not settle a batch", self.function_name)
        finally:
            with self._lock:
                self._in_handler -= 1
                self._lock.notify_all()

    def _change_visibility(self, messages: list[dict[str, Any]], seconds: int) -> None:
        self._sqs.change_message_visibility_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": seconds}
                for i, m in enumerate(messages)
            ],
        )

    def deliver_one_batch(self) -> int:
        """Receive one batch and hand it to the handler on this thread, settling it as the
        running poller does (the stack drives a queue this way when no poller runs for it).
        Returns how many messages the batch had."""
        answer = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages") or []
        if messages:
            self._deliver(self._loader(self.handler_path), messages)
        return len(messages)

    def _deliver(self, handler: Handler, messages: list[dict[str, Any]]) -> None:
        event = sqs_event(messages, self.queue_arn)
        context = LambdaContext(self.function_name, timeout=self.timeout)
        ids = [m["MessageId"] for m in messages]
        try:
            result = handler(event, context)
        except Exception:
            self._report("raised", ids)
            failed, error = set(ids), 1
        else:
            failed, error = self._failures(result, ids), 0
        with self._lock:
            self.stats.batches += 1
            self.stats.records += len(ids)
            self.stats.failed += len(failed)
            self.stats.errors += error
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        if retry:
            self._change_visibility(retry, self.retry_after)

    def _failures(self, result: Any, ids: list[str]) -> set[str]:
        if not self.report_batch_item_failures:
            return set()
        if not isinstance(result, dict) or not result.get("batchItemFailures"):
            return set()
        failures = result["batchItemFailures"]
        wanted = {item.get("itemIdentifier") for item in failures if isinstance(item, dict)}
        if len(wanted) != len(failures) or not wanted <= set(ids):
            print(
                f"local stack: {self.function_name} returned batchItemFailures that are not in "
                "the batch; Lambda fails the whole batch",
                file=sys.stderr,
            )
            return set(ids)
        return {w for w in wanted if isinstance(w, str)}

    def _report(self, what: str, ids: list[str] | None) -> None:
        batch = f" (batch of {len(ids)}; left on the queue for retry)" if ids else ""
        print(
            f"local stack: {self.handler_path} {what}{batch}:\n{traceback.format_exc()}",
            file=sys.stderr,
        )
