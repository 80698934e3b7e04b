"""One cold start, in a fresh interpreter: ``python -S
workbench/src/bulb_workbench/bench/_cold_child.py SPEC.json``.

Run as a script (never imported by the measured process), so nothing is loaded before the clock
starts except what the Lambda runtime's bootstrap also has loaded (``json``, ``os``, ``time``...).
The spec says either ``{"floor": ["sqs", ...], "calls": bool, "deps": [[name, imports,
first_use], ...], "use": bool}`` (import boto3 and create those clients from one session with
``skill.aws``'s configuration, optionally with one call each, then run each library's import
lines and, with ``use``, its first use: ``bulb_workbench.bench._floors``) or
``{"module": ..., "event": ...}`` (import the handler module, then invoke ``handler`` once). The
result (JSON) is
written to ``spec["out"]``; stdout carries the handler's logs and is discarded.
"""

import gc
import importlib
import json
import resource
import sys
import time

with open(sys.argv[1]) as spec_file:
    spec = json.loads(spec_file.read())


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "c0ffee00-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def __init__(self) -> None:
        # the function's Timeout (the sweep's worker starts no read with under 12 s left)
        self._end = time.time() + spec.get("timeout_s", 10)

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - time.time()) * 1000)


def floor(services, calls, deps=(), use=False):
    import boto3
    from botocore.config import Config

    imported = time.perf_counter()
    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
        tcp_keepalive=True,
    )
    session = boto3.session.Session()  # one session for every client: the SDK's cheapest way
    clients = {s: session.client(s, config=config) for s in services}
    if calls:
        for name, client in clients.items():
            if name == "sqs":
                client.send_message(QueueUrl=spec["queue_url"], MessageBody="floor")
            elif name == "dynamodb":
                client.get_item(TableName="bulb-skill-tokens", Key={"user_id": {"S": "nobody"}})
            elif name == "secretsmanager":
                client.get_secret_value(SecretId="bulb-skill/lwa")
            elif name == "kms":
                client.encrypt(
                    KeyId="bench",
                    Plaintext=b"floor",
                    EncryptionContext={"user_id": "floor", "vendor": "floor"},
                )
    for _name, imports, first_use in deps:
        namespace = {"spec": spec, "clients": clients}
        exec(imports, namespace)  # noqa: S102 - the bench's own import lines, timed
        if use:
            exec(first_use, namespace)  # noqa: S102 - the bench's own first uses, timed
    return imported, "ok"


def invoke(module_name, event):
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    answer = module.handler(event, Context())
    return imported, json.dumps(answer, default=str)[:300]


#: The garbage collector's CPU time in this run (the handlers pause it for their cold start).
collecting = {"since": 0.0, "total": 0.0}


def _collection(phase, info):
    now = time.process_time()
    if phase == "start":
        collecting["since"] = now
    else:
        collecting["total"] += now - collecting["since"]


gc.callbacks.append(_collection)
t0 = time.perf_counter()
cpu0 = time.process_time()
if "floor" in spec:
    t_import, summary = floor(
        spec["floor"], spec.get("calls", False), spec.get("deps", ()), spec.get("use", False)
    )
else:
    t_import, summary = invoke(spec["module"], spec["event"])
t1 = time.perf_counter()
cpu1 = time.process_time()
usage = resource.getrusage(resource.RUSAGE_SELF)
result = {
    "import_s": t_import - t0,
    "first_s": t1 - t_import,
    "total_s": t1 - t0,
    "cpu_s": cpu1 - cpu0,
    "gc_s": collecting["total"],
    "maxrss_mb": usage.ru_maxrss / 1024,
    "modules": len(sys.modules),
    "answer": summary,
}
if spec.get("module_names"):
    result["module_names"] = sorted(sys.modules)
with open(spec["out"], "w") as out:
    json.dump(result, out)
