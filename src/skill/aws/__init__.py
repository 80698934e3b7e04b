"""The AWS and HTTP adapters: every module that talks to DynamoDB, SQS, Secrets Manager, KMS,
Cognito, CloudWatch metrics, the Alexa event gateway or Login with Amazon.

The core (``skill.routing``, ``skill.pipeline``, ``skill.delivery``, ``skill.breaker``...)
never imports this package; ``skill.composition`` hands its adapters to the core as ports.
Importing the package is cheap: boto3 is loaded by the first ``client`` call.
"""

from skill.aws._clients import client, forget_clients, get_json_secret, reset, secrets_provider

__all__ = ["client", "forget_clients", "get_json_secret", "reset", "secrets_provider"]
