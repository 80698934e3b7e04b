"""The vendor simulator in-process: a ``requests`` transport adapter that hands each request to
``VendorSimulator.dispatch`` instead of a socket, for runs where loopback HTTP would dominate
(the scale run makes millions of vendor calls in a simulated day).

Everything the simulator decides (routing, each vendor's authentication, quotas, the answers)
is the same; what is skipped is the server thread, the vendor latency and the foreign-credential
inspection of ``_serve`` (the HTTP tests cover those).

Example (the simulator is never started: no server, no socket)::

    >>> from bulb_workbench.local.sim_adapters import SimulatorListerAdapter
    >>> from bulb_workbench.local.simulator import VendorSimulator
    >>> from skill.bulbs import Change
    >>> from skill.plugins import Style
    >>> virtual_clock = lambda: 1_700_000_000.0  # the scale run's clock runs a simulated day
    >>> sim = VendorSimulator(latency=0, clock=virtual_clock, enforce_quotas=True)
    >>> adapter = SimulatorListerAdapter("sim-sync", Style.SYNC, IN_PROCESS_URL,
    ...                                  session=in_process_session(sim))
    >>> credential = sim.demo_credential("sim-sync")
    >>> [device.id for device in adapter.list_devices(credential)]
    ['color-1', 'white-tunable-1', 'white-1']
    >>> adapter.execute(credential, "white-1", Change(on=False)).on
    False
    >>> sim.state("sim-sync", "white-1")["on"], [(e["kind"], e["status"]) for e in sim.log()]
    (False, [('devices', 200), ('command', 200)])
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from bulb_workbench.local._sim_http import SimRequest

#: The base URL in-process sim adapters are given (never resolved: no socket is opened).
IN_PROCESS_URL = "http://simulator.in-process"


class InProcessTransport(BaseAdapter):
    """Sends each request to ``simulator.dispatch`` and returns its answer as a response."""

    def __init__(self, simulator: Any) -> None:
        super().__init__()
        self._simulator = simulator

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        body = request.body or b""
        sim_request = SimRequest(
            method=request.method or "GET",
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body.encode() if isinstance(body, str) else bytes(body),
        )
        answer = self._simulator.dispatch(sim_request)
        response = requests.Response()
        response.status_code = answer.status
        response._content = answer.content
        response.headers = CaseInsensitiveDict(answer.headers)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def in_process_session(simulator: Any) -> requests.Session:
    """A session whose calls to ``IN_PROCESS_URL`` go to ``simulator`` in-process."""
    session = requests.Session()
    session.trust_env = False
    session.headers.update({"Accept": "application/json"})
    session.mount(IN_PROCESS_URL, InProcessTransport(simulator))
    return session
