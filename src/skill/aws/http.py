"""Plain HTTP reads for the core (the user pool's JWKS), on ``requests``."""

from __future__ import annotations

from typing import Any

import requests


def get_json(url: str) -> dict[str, Any]:
    """The JSON object at ``url``; ``requests``' errors (``OSError``s) or ``ValueError``."""
    response = requests.get(url, timeout=3)
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("the JWKS is not a JSON object")  # read as bad JSON
    return body
