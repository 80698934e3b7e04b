"""``skill.aws.client``: one client per service per container, however many threads ask."""

from __future__ import annotations

import threading
import time

from skill.aws import _clients as aws


def test_threads_asking_at_once_share_one_client(monkeypatch):
    built = []

    class Client:
        def close(self) -> None:
            pass

    class Session:
        def client(self, service, config=None):
            time.sleep(0.05)  # long enough for every thread to miss the cache
            built.append(service)
            return Client()

    aws.forget_clients()
    monkeypatch.setattr(aws, "_session", lambda: Session())
    try:
        got, start = [], threading.Barrier(8)

        def ask():
            start.wait()
            got.append(aws.client("dynamodb"))

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert built == ["dynamodb"] and len({id(c) for c in got}) == 1
    finally:
        aws.forget_clients()
        aws._made[:] = [m for m in aws._made if not isinstance(m, Client)]
