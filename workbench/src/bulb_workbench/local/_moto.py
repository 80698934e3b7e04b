"""moto's server (SQS, DynamoDB, Secrets Manager, KMS, Cognito over real HTTP) on loopback, once
per process.

One server serves every ``LocalStack`` of a process, reset to empty when a stack starts: Lambda
handler modules and Powertools utilities create their boto3 clients once (at first use, or at
import), and those clients keep the endpoint they were made with, exactly as in a warm Lambda
container. A server per stack would leave them talking to a stopped port.
"""

from __future__ import annotations

import atexit
import logging
import threading
import urllib.request

_lock = threading.Lock()
_server: _Moto | None = None


class _Moto:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO on stderr; the stack's own logs are enough
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget every queue, table, secret, key and user pool (moto's reset API)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with opener.open(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        self._server.stop()


def moto_url(*, reset: bool = True) -> str:
    """The URL of the process's moto server, started at the first call; emptied if ``reset``."""
    global _server  # noqa: PLW0603 - one moto server per process
    with _lock:
        if _server is None:
            _server = _Moto()
            atexit.register(_stop)
        elif reset:
            _server.reset()
        return _server.url


def _stop() -> None:
    global _server
    with _lock:
        server, _server = _server, None
    if server is not None:
        try:
            server.stop()
        except Exception:  # noqa: S110 - interpreter shutdown: nothing useful to report
            pass


class AwsError(RuntimeError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code


#: X-Amz-Target prefix and JSON protocol version of the services the local stack sets up.
_JSON_SERVICES = {
    "sqs": ("AmazonSQS", "1.0"),
    "dynamodb": ("DynamoDB_20120810", "1.0"),
    "secretsmanager": ("secretsmanager", "1.1"),
    "kms": ("TrentService", "1.1"),
    "cognito-idp": ("AWSCognitoIdentityProviderService", "1.1"),
}


class JsonClient:
    """The AWS JSON protocol over plain HTTP, for the stack's own calls to moto.

    ``JsonClient(url, "sqs").create_queue(QueueName="q")`` posts ``AmazonSQS.CreateQueue`` and
    returns the decoded answer, like the boto3 method of the same name. It spares the stack
    loading botocore's service models (about 0.2 s per service) before the handlers need them;
    requests carry a SigV4-shaped header so moto can tell the service and region (moto does not
    check signatures). Errors raise ``AwsError``.
    """

    def __init__(self, url: str, service: str, region: str = "us-east-1", timeout: float = 10.0):
        self._url = url.rstrip("/") + "/"
        self._service = service
        self._region = region
        self._timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, action: str, body: dict[str, object] | None = None) -> dict[str, object]:
        import json
        import urllib.error

        prefix, version = _JSON_SERVICES[self._service]
        request = urllib.request.Request(
            self._url,
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={
                "Content-Type": f"application/x-amz-json-{version}",
                "X-Amz-Target": f"{prefix}.{action}",
                "Authorization": (
                    "AWS4-HMAC-SHA256 Credential=testing/20240101/"
                    f"{self._region}/{self._service}/aws4_request, SignedHeaders=host, Signature=0"
                ),
            },
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                error = json.loads(raw)
            except ValueError:
                error = {}
            code = str(error.get("__type", "Error")).rsplit("#", 1)[-1]
            raise AwsError(
                exc.code, code, str(error.get("message", error.get("Message", "")))
            ) from None
        return json.loads(raw) if raw else {}

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if name.startswith("_"):
            raise AttributeError(name)
        action = "".join(part.title() for part in name.split("_"))
        return lambda **kwargs: self.call(action, kwargs)
