"""The Cognito user pool's admin side: deleting a user (``skill.linking.UserDirectory``)."""

from __future__ import annotations


class CognitoUsers:
    def __init__(self, pool_id: str) -> None:
        self._pool_id = pool_id

    def delete(self, user_id: str) -> None:
        from skill.aws import client

        client("cognito-idp").admin_delete_user(UserPoolId=self._pool_id, Username=user_id)
