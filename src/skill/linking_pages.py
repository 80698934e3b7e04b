"""Lambda handler ``skill.linking_pages.handler``: the linking pages behind an HTTP API.

Environment (template.yaml sets it): ``LINKING_BASE_URL`` (the pages' public URL),
``COGNITO_DOMAIN`` (the managed login's ``https://<prefix>.auth.<region>.amazoncognito.com``),
``COGNITO_ISSUER``, ``LINKING_CLIENT_SECRET_NAME`` (a JSON secret ``{"client_id",
"client_secret"}`` of the pages' own app client), ``SESSION_SECRET_NAME`` (the cookie signing
key), ``USER_POOL_ID`` (for account deletion), plus the vault's and the stores' names.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from skill.config import settings
from skill.linking import LinkingServices, build_app
from skill.observability import logger


@cache
def services() -> LinkingServices:
    from skill.accounts import Accounts
    from skill.aws import client, get_json_secret, secrets_provider
    from skill.entrypoint import _webhook_urls
    from skill.identity import CognitoIdentity
    from skill.linking import CognitoLogin, CookieSigner
    from skill.plugins import AdapterRegistry
    from skill.secrets import secret_source
    from skill.stores import DynamoPendingStore, DynamoTokenStore, SqsOutbox
    from skill.wiring import credentials

    config = settings()
    app_client = get_json_secret(os.environ["LINKING_CLIENT_SECRET_NAME"])
    session_secret = secrets_provider().get(os.environ["SESSION_SECRET_NAME"], max_age=300)
    identity = CognitoIdentity(config.cognito_issuer, app_client["client_id"],
                               jwks_url=config.cognito_jwks_url or None)
    accounts = Accounts(
        credentials(),
        AdapterRegistry.from_environment(secrets=secret_source()),
        DynamoPendingStore(config.pending_table),
        SqsOutbox(config.outbox_queue_url),
        DynamoTokenStore(config.tokens_table),
        webhook_url_for=_webhook_urls(config.webhook_base_url),
    )
    pool_id = os.environ.get("USER_POOL_ID", "")

    class CognitoUsers:
        def delete(self, user_id: str) -> None:
            client("cognito-idp").admin_delete_user(UserPoolId=pool_id, Username=user_id)

    return LinkingServices(
        accounts=accounts,
        login=CognitoLogin(os.environ["COGNITO_DOMAIN"], app_client["client_id"],
                           app_client.get("client_secret"), identity),
        cookies=CookieSigner(str(session_secret)),
        base_url=os.environ["LINKING_BASE_URL"],
        users=CognitoUsers() if pool_id else None,
    )


app = build_app(services)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger()  # JSON logs; the pages log no form body, cookie or query string
    return app.resolve(event, context)
