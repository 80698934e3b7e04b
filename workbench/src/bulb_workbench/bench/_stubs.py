"""A counting stand-in for the AWS APIs the handlers call, the Alexa event gateway and LWA.

One HTTP server on loopback, answering in microseconds so that it stubs I/O without
distorting a measurement (no moto import in the measured process, no mock patching botocore:
the handler's own boto3 clients, reached through ``AWS_ENDPOINT_URL``, do their full work of
serialising, signing, sending and parsing). It also counts every request, which is what the cost
model is built from.

- AWS JSON protocol (``X-Amz-Target``): SQS ``SendMessage``/``SendMessageBatch`` (kept per
  queue, so a driver can feed them to the next handler), DynamoDB ``GetItem``/``PutItem``/
  ``UpdateItem``/``DeleteItem``/``Query``/``Scan`` on in-memory tables (enough semantics for this
  project: conditional delete on ``attribute_exists``; ``Query`` on the table or on a sparse
  global secondary index, ``IndexName``: the sweep's ``SweepSlots`` and ``OwnersByUser``), Secrets
  Manager ``GetSecretValue``, KMS ``Encrypt``/``Decrypt`` (the credentials vault: a sealed blob that
  opens only with the encryption context it was made with). Every DynamoDB call is charged in
  request units by the item-size rules of on-demand billing.
- ``GET /jwks``: the Cognito user pool's signing keys (the entrypoint verifies access tokens).
- ``POST /v3/events``: the event gateway, 202.
- ``POST /auth/o2/token``: LWA, a fresh token pair.
- ``POST /webhook``: where the simulator pushes (async style); kept for a driver.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

ACCOUNT = "123456789012"
KEYS = {
    "tokens": ("user_id",),
    "state": ("pk", "sk"),
    "idempotency": ("id",),
    "credentials": ("user_id", "vendor"),
}


def _attr_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return math.ceil(len(raw.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _attr_size(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(_attr_size(v) + 1 for v in raw)
    return len(json.dumps(raw))


def item_size(item: dict[str, Any] | None) -> int:
    """DynamoDB item size: attribute names plus values (the documented approximation)."""
    if not item:
        return 0
    return sum(len(name.encode()) + _attr_size(value) for name, value in item.items())


@dataclass
class Ledger:
    """What was asked of the outside world, counted."""

    requests: Counter = field(default_factory=Counter)  # "dynamodb.PutItem:state" -> n
    rru: float = 0.0
    wru: float = 0.0
    sqs_messages: Counter = field(default_factory=Counter)  # queue -> messages sent
    sqs_requests: Counter = field(default_factory=Counter)  # queue -> billed send requests
    gateway_posts: int = 0
    lwa_calls: int = 0
    secrets_calls: int = 0
    webhook_pushes: int = 0
    kms_calls: int = 0
    jwks_fetches: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "rru": self.rru,
            "wru": self.wru,
            "sqs_messages": dict(self.sqs_messages),
            "sqs_requests": dict(self.sqs_requests),
            "kms_calls": self.kms_calls,
            "jwks_fetches": self.jwks_fetches,
            "gateway_posts": self.gateway_posts,
            "lwa_calls": self.lwa_calls,
            "secrets_calls": self.secrets_calls,
            "webhook_pushes": self.webhook_pushes,
        }


class _Fail(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        self.code, self.message, self.status = code, message, status


class StubCloud:
    """The stub server and its state. ``with StubCloud() as cloud: cloud.url``."""

    def __init__(
        self,
        secrets: dict[str, str] | None = None,
        gateway_status: int = 202,
        jwks: dict[str, Any] | None = None,
    ) -> None:
        self.secrets = dict(secrets or {})
        self.jwks = jwks or {"keys": []}
        self.gateway_status = gateway_status
        self.lock = threading.RLock()
        self.ledger = Ledger()
        self.tables: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.queues: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.pushes: list[tuple[dict[str, str], bytes]] = []
        self.pushed = threading.Condition(self.lock)
        self.gateway_events: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Without TCP_NODELAY, headers and body leave in two writes and the client's delayed
            # ACK holds the second one ~40 ms (Linux): every call would cost 40 ms of nothing.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload, ctype = cloud.answer(self.path, dict(self.headers), body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/jwks":
                    with cloud.lock:
                        cloud.ledger.jwks_fetches += 1
                    status, data = 200, json.dumps(cloud.jwks).encode()
                else:
                    status, data = 404, b'{"message": "no stub"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="stub-cloud").start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def queue_url(self, name: str) -> str:
        return f"{self.url}/{ACCOUNT}/{name}"

    def reset(self) -> None:
        with self.lock:
            self.ledger = Ledger()
            self.tables.clear()
            self.queues.clear()
            self.pushes.clear()
            self.gateway_events.clear()

    def put(self, table: str, item: dict[str, Any]) -> None:
        with self.lock:
            self.tables[table][self._key(table, item)] = item

    def take(self, queue: str) -> list[dict[str, Any]]:
        """The messages sent to ``queue`` since the last take (a driver's ReceiveMessage)."""
        with self.lock:
            name = queue.rsplit("/", 1)[-1]
            messages, self.queues[name] = self.queues[name], []
            return messages

    def wait_push(self, timeout: float) -> tuple[dict[str, str], bytes] | None:
        with self.pushed:
            end = time.monotonic() + timeout
            while not self.pushes:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.pushed.wait(left)
            return self.pushes.pop(0)

    # -- dispatch --------------------------------------------------------------------------
    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, str]:
        lowered = {k.lower(): v for k, v in headers.items()}
        target = lowered.get("x-amz-target")
        with self.lock:
            if target:
                _service, _, operation = target.partition(".")
                try:
                    result = getattr(self, f"_{operation}")(json.loads(body or b"{}"))
                except _Fail as fail:
                    return (
                        fail.status,
                        {"__type": fail.code, "message": fail.message},
                        "application/x-amz-json-1.0",
                    )
                return 200, result, "application/x-amz-json-1.0"
            if path.startswith("/v3/events"):
                self.ledger.gateway_posts += 1
                self.gateway_events.append(json.loads(body or b"{}"))
                return self.gateway_status, b"", "application/json"
            if path.startswith("/auth/o2/token"):
                self.ledger.lwa_calls += 1
                return (
                    200,
                    {
                        "access_token": f"Atza|{uuid.uuid4().hex}",
                        "refresh_token": "Atzr|bench",
                        "token_type": "bearer",
                        "expires_in": 3600,
                    },
                    "application/json",
                )
            if path.startswith("/webhook"):
                self.ledger.webhook_pushes += 1
                self.pushes.append((lowered, body))
                self.pushed.notify_all()
                return 200, {"ok": True}, "application/json"
        return 404, {"message": f"no stub for {path}"}, "application/json"

    # -- SQS -------------------------------------------------------------------------------
    def _sqs_keep(self, url: str, entry: dict[str, Any]) -> dict[str, Any]:
        name = url.rsplit("/", 1)[-1]
        text = entry["MessageBody"]
        self.queues[name].append(
            {
                "body": text,
                "group": entry.get("MessageGroupId"),
                "delay": entry.get("DelaySeconds", 0),
            }
        )
        self.ledger.sqs_messages[name] += 1
        return {
            "MessageId": str(uuid.uuid4()),
            "MD5OfMessageBody": hashlib.md5(text.encode()).hexdigest(),  # noqa: S324 - SQS's checksum
        }

    def _SendMessage(self, req: dict[str, Any]) -> dict[str, Any]:
        name = req["QueueUrl"].rsplit("/", 1)[-1]
        self.ledger.requests[f"sqs.SendMessage:{name}"] += 1
        self.ledger.sqs_requests[name] += max(
            1, math.ceil(len(req["MessageBody"].encode()) / 65536)
        )
        return self._sqs_keep(req["QueueUrl"], req)

    def _SendMessageBatch(self, req: dict[str, Any]) -> dict[str, Any]:
        name = req["QueueUrl"].rsplit("/", 1)[-1]
        self.ledger.requests[f"sqs.SendMessageBatch:{name}"] += 1
        size = sum(len(e["MessageBody"].encode()) for e in req["Entries"])
        self.ledger.sqs_requests[name] += max(1, math.ceil(size / 65536))
        ok = []
        for entry in req["Entries"]:
            ok.append({"Id": entry["Id"], **self._sqs_keep(req["QueueUrl"], entry)})
        return {"Successful": ok, "Failed": []}

    # -- KMS ------------------------------------------------------------------------------------
    @staticmethod
    def seal(plaintext: bytes, context: dict[str, str]) -> bytes:
        """What the stub's ``Encrypt`` returns: opens only with the same encryption context."""
        return b"stub-kms:" + base64.b64encode(
            json.dumps(
                {"context": context, "plaintext": base64.b64encode(plaintext).decode()},
                sort_keys=True,
            ).encode()
        )

    def _Encrypt(self, req: dict[str, Any]) -> dict[str, Any]:
        self.ledger.requests["kms.Encrypt"] += 1
        self.ledger.kms_calls += 1
        blob = self.seal(base64.b64decode(req["Plaintext"]), req.get("EncryptionContext") or {})
        return {"CiphertextBlob": base64.b64encode(blob).decode(), "KeyId": req["KeyId"]}

    def _Decrypt(self, req: dict[str, Any]) -> dict[str, Any]:
        self.ledger.requests["kms.Decrypt"] += 1
        self.ledger.kms_calls += 1
        blob = base64.b64decode(req["CiphertextBlob"])
        try:
            sealed = json.loads(base64.b64decode(blob.removeprefix(b"stub-kms:")))
        except ValueError:
            raise _Fail("InvalidCiphertextException", "not a stub ciphertext") from None
        if sealed["context"] != (req.get("EncryptionContext") or {}):
            raise _Fail("InvalidCiphertextException", "the encryption context does not match")
        return {
            "Plaintext": sealed["plaintext"],
            "KeyId": req.get("KeyId", "bench"),
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }

    # -- Secrets Manager ---------------------------------------------------------------------
    def _GetSecretValue(self, req: dict[str, Any]) -> dict[str, Any]:
        self.ledger.requests["secretsmanager.GetSecretValue"] += 1
        self.ledger.secrets_calls += 1
        name = req["SecretId"]
        return {
            "ARN": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbCdEf",
            "Name": name,
            "VersionId": "v1",
            "SecretString": json.dumps(self.secrets),
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": time.time(),
        }

    # -- DynamoDB ----------------------------------------------------------------------------
    @staticmethod
    def _table(req: dict[str, Any]) -> str:
        name = req["TableName"]
        for short in KEYS:
            if short in name:
                return short
        return name

    def _key(self, table: str, item: dict[str, Any]) -> str:
        names = KEYS.get(table) or tuple(sorted(item))[:1]
        return json.dumps([item.get(n) for n in names], sort_keys=True)

    def _count(self, op: str, table: str) -> None:
        self.ledger.requests[f"dynamodb.{op}:{table}"] += 1

    def _GetItem(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self._table(req)
        self._count("GetItem", table)
        item = self.tables[table].get(self._key(table, req["Key"]))
        units = max(1, math.ceil(item_size(item) / 4096))
        self.ledger.rru += units if req.get("ConsistentRead") else units / 2
        return {"Item": item} if item else {}

    def _PutItem(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self._table(req)
        self._count("PutItem", table)
        key = self._key(table, req["Item"])
        old = self.tables[table].get(key)
        self.ledger.wru += max(1, math.ceil(max(item_size(old), item_size(req["Item"])) / 1024))
        self.tables[table][key] = req["Item"]
        return {}

    def _UpdateItem(self, req: dict[str, Any]) -> dict[str, Any]:
        # Only Powertools idempotency uses it (marking a record COMPLETED): a merge of values.
        table = self._table(req)
        self._count("UpdateItem", table)
        key = self._key(table, req["Key"])
        old = self.tables[table].get(key) or dict(req["Key"])
        new = dict(old)
        for placeholder, value in (req.get("ExpressionAttributeValues") or {}).items():
            new[placeholder.lstrip(":")] = value
        self.ledger.wru += max(1, math.ceil(max(item_size(old), item_size(new)) / 1024))
        self.tables[table][key] = new
        return {}

    def _DeleteItem(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self._table(req)
        self._count("DeleteItem", table)
        key = self._key(table, req["Key"])
        old = self.tables[table].get(key)
        self.ledger.wru += max(1, math.ceil(item_size(old) / 1024))
        if old is None and "attribute_exists" in (req.get("ConditionExpression") or ""):
            raise _Fail(
                "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "The conditional request failed",
            )
        self.tables[table].pop(key, None)
        return {}

    def _BatchGetItem(self, req: dict[str, Any]) -> dict[str, Any]:
        responses: dict[str, list[dict[str, Any]]] = {}
        for name, wanted in req["RequestItems"].items():
            table = self._table({"TableName": name})
            self._count("BatchGetItem", table)
            found = [
                i
                for i in (self.tables[table].get(self._key(table, k)) for k in wanted["Keys"])
                if i
            ]
            units = sum(max(1, math.ceil(item_size(i) / 4096)) for i in found) or 1
            self.ledger.rru += units if wanted.get("ConsistentRead") else units / 2
            responses[name] = found
        return {"Responses": responses, "UnprocessedKeys": {}}

    def _BatchWriteItem(self, req: dict[str, Any]) -> dict[str, Any]:
        for name, writes in req["RequestItems"].items():
            table = self._table({"TableName": name})
            self._count("BatchWriteItem", table)
            for write in writes:
                if "PutRequest" in write:
                    item = write["PutRequest"]["Item"]
                    key = self._key(table, item)
                    old = self.tables[table].get(key)
                    self.ledger.wru += max(
                        1, math.ceil(max(item_size(old), item_size(item)) / 1024)
                    )
                    self.tables[table][key] = item
                else:
                    key = self._key(table, write["DeleteRequest"]["Key"])
                    self.ledger.wru += max(
                        1, math.ceil(item_size(self.tables[table].get(key)) / 1024)
                    )
                    self.tables[table].pop(key, None)
        return {"UnprocessedItems": {}}

    def _Query(self, req: dict[str, Any]) -> dict[str, Any]:
        # The key condition as the project writes it: ``a = :x`` and ``begins_with(b, :y)``
        # joined by AND, on the table or on a global secondary index (``IndexName``: only the
        # items that carry the index's key attributes are in it, a sparse index).
        table = self._table(req)
        index = req.get("IndexName")
        self._count("Query" + (f"[{index}]" if index else ""), table)
        values = req.get("ExpressionAttributeValues") or {}
        tests = []
        for clause in re.split(r"\s+AND\s+", req["KeyConditionExpression"], flags=re.IGNORECASE):
            if m := re.fullmatch(r"\s*(\w+)\s*=\s*(:\w+)\s*", clause):
                tests.append((m.group(1), values[m.group(2)], False))
            elif m := re.fullmatch(r"\s*begins_with\(\s*(\w+)\s*,\s*(:\w+)\s*\)\s*", clause):
                tests.append((m.group(1), values[m.group(2)], True))
            else:
                raise _Fail("ValidationException", f"stub cannot read {clause!r}")

        def matches(item: dict[str, Any]) -> bool:
            for name, value, prefix in tests:
                ((kind, raw),) = value.items()
                have = item.get(name, {}).get(kind)
                if have is None or (not have.startswith(raw) if prefix else have != raw):
                    return False
            return True

        items = [i for i in self.tables[table].values() if matches(i)]
        units = max(1, math.ceil(sum(item_size(i) for i in items) / 4096))
        self.ledger.rru += units if req.get("ConsistentRead") else units / 2
        return {"Items": items, "Count": len(items), "ScannedCount": len(items)}

    def _Scan(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self._table(req)
        self._count("Scan", table)
        scanned = list(self.tables[table].values())
        values = req.get("ExpressionAttributeValues") or {}
        owner, user = values.get(":owner"), values.get(":user")  # the owners' scan: begins_with

        def wanted(item: dict[str, Any]) -> bool:
            if owner is None:
                return True
            pk, sk = item.get("pk", {}).get("S", ""), item.get("sk", {}).get("S", "")
            return pk.startswith(owner["S"]) and (user is None or sk.startswith(user["S"]))

        items = [i for i in scanned if wanted(i)]
        self.ledger.rru += max(1, math.ceil(sum(item_size(i) for i in scanned) / 4096)) / 2
        return {"Items": items, "Count": len(items), "ScannedCount": len(scanned)}
