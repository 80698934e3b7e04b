"""``skill secrets``: change one key of a deployed stack's secrets, never showing a value.

The vendor secrets (``VendorSecretsArn``) are one JSON object that every function reads
(``skill.aws.secrets``): ``WEBHOOK_PATH_SECRET``, ``SWITCHBOT_WEBHOOK_SECRET``,
``LIFX_CLIENT_ID``... Putting a whole new object by hand loses the keys one forgets; this reads the
object, changes one key, checks that nobody changed the secret meanwhile (else merges again), and
puts it back. The LWA secret (``LwaSecretArn``, ``--secret lwa``) holds ``client_id`` and
``client_secret``.

    skill secrets set NAME VALUE --stack bulb-skill --region eu-west-1
    skill secrets set NAME - --stack ...              # the value from stdin (not in shell history)
    skill secrets set NAME --generate --stack ...     # 32 random bytes as 64 hex digits
    skill secrets unset NAME --stack ...
    skill secrets list --stack ...                    # the keys, never their values
    skill secrets rotate-webhook VENDOR --stack ...   # a new webhook path secret for VENDOR

Output: one JSON line (the secret's ARN, the key, what changed, the new version id, the keys it
holds). Values are never printed, logged or put in an exception. Functions see a change within 5
minutes (they cache the secrets that long); webhook path secrets within 10 (``skill.aws.secrets``).

Where: the stack's outputs (``VendorSecretsArn``, ``LwaSecretArn``) in ``--region`` (else the AWS
environment's), or ``--secret-id ARN`` directly. Needs cloudformation:DescribeStacks and
secretsmanager:GetSecretValue, DescribeSecret and PutSecretValue on the secret.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets as random
import sys
import uuid
from collections.abc import Callable
from typing import Any, TextIO

#: ``--secret`` -> (the stack output with its ARN, the keys it may hold: a pattern).
SECRETS = {
    "vendor": ("VendorSecretsArn", re.compile(r"^[A-Z][A-Z0-9_]*$")),
    "lwa": ("LwaSecretArn", re.compile(r"^(client_id|client_secret)$")),
}
#: Attempts when the secret changes between our read and our write.
ATTEMPTS = 3

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class SecretsError(Exception):
    """Said to the operator as it is; never carries a secret value."""


def add_parser(sub: Any) -> None:
    """Register ``skill secrets`` on the CLI's subparsers."""
    parser = sub.add_parser(
        "secrets",
        help=(
            "set, unset or list keys of a deployed stack's vendor (or LWA) secrets; "
            "values never shown"
        ),
        description=(__doc__ or "").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="secrets_command", required=True)

    def where(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--stack", default=None, help="the deployed stack's name (CloudFormation)"
        )
        command.add_argument(
            "--region", default=None, help="its region (default: the AWS environment's)"
        )
        command.add_argument(
            "--secret",
            choices=sorted(SECRETS),
            default="vendor",
            help="which secret: vendor (default) or lwa",
        )
        command.add_argument(
            "--secret-id", default=None, help="the secret's ARN or name, instead of --stack"
        )

    put = commands.add_parser("set", help="add or replace one key")
    put.add_argument("name", metavar="NAME")
    put.add_argument(
        "value",
        metavar="VALUE",
        nargs="?",
        default=None,
        help="the value; '-' reads it from stdin (one line)",
    )
    put.add_argument(
        "--generate",
        action="store_true",
        help="a random value: 32 bytes as 64 hex digits (webhook secrets, path secrets)",
    )
    where(put)
    unset = commands.add_parser("unset", help="remove one key")
    unset.add_argument("name", metavar="NAME")
    where(unset)
    listing = commands.add_parser("list", help="the keys the secret holds (never their values)")
    where(listing)
    rotate = commands.add_parser(
        "rotate-webhook",
        help="a new webhook path secret for VENDOR; the current one stays accepted as _PREVIOUS",
    )
    rotate.add_argument("vendor", metavar="VENDOR", help="the adapter's name, e.g. switchbot")
    where(rotate)
    parser.set_defaults(run=run, verbose=False)


def run(args: argparse.Namespace, out: TextIO, *, stdin: TextIO | None = None) -> int:
    try:
        secret_id = _secret_id(args)
        keys = SecretKeys(_client("secretsmanager", args.region), secret_id)
        if args.secrets_command == "list":
            result = {"secret": keys.arn(), "keys": keys.names()}
        elif args.secrets_command == "unset":
            result = keys.change(args.name, None, allowed=SECRETS[args.secret][1])
        elif args.secrets_command == "rotate-webhook":
            if args.secret != "vendor":
                raise SecretsError("webhook path secrets are in the vendor secrets")
            result = keys.rotate_path_secret(args.vendor)
        else:
            value = _value(args, stdin or sys.stdin)
            result = keys.change(args.name, value, allowed=SECRETS[args.secret][1])
    except SecretsError as error:
        print(f"skill secrets: {error}", file=sys.stderr)
        return EXIT_FAILED
    out.write(json.dumps(result) + "\n")
    return EXIT_OK


def _value(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.generate:
        if args.value is not None:
            raise SecretsError("give a VALUE or --generate, not both")
        return random.token_hex(32)
    if args.value is None:
        raise SecretsError("give a VALUE, '-' to read it from stdin, or --generate")
    value = stdin.readline().rstrip("\r\n") if args.value == "-" else args.value
    if not value or value != value.strip():
        raise SecretsError(f"the value for {args.name} is empty or starts or ends with white space")
    return value


def _client(service: str, region: str | None) -> Any:
    import boto3

    return boto3.session.Session().client(service, region_name=region)


def _secret_id(args: argparse.Namespace) -> str:
    if args.secret_id:
        return str(args.secret_id)
    if not args.stack:
        raise SecretsError("give --stack NAME (with --region) or --secret-id ARN")
    output = SECRETS[args.secret][0]
    cloudformation = _client("cloudformation", args.region)
    try:
        [stack] = cloudformation.describe_stacks(StackName=args.stack)["Stacks"]
    except Exception as error:  # noqa: BLE001 - ValidationError: no such stack in this region
        raise SecretsError(
            f"stack {args.stack}{_in(args.region)}: {_why(error)} (wrong name or region?)"
        ) from None
    found = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if output not in found:
        raise SecretsError(f"stack {args.stack} has no output {output}")
    return found[output]


class SecretKeys:
    """One JSON-object secret, changed a key at a time (read, merge, check, put)."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self._sm = client
        self._id = secret_id

    def arn(self) -> str:
        try:
            return str(self._sm.describe_secret(SecretId=self._id)["ARN"])
        except Exception as error:  # noqa: BLE001 - any AWS failure is told as a SecretsError
            raise SecretsError(f"secret {self._id}: {_why(error)}") from None

    def names(self) -> list[str]:
        values, _ = self._read()
        return sorted(values)

    def change(self, name: str, value: str | None, *, allowed: re.Pattern[str]) -> dict[str, Any]:
        """Set ``name`` to ``value`` (None: remove it)."""
        if not allowed.match(name):
            raise SecretsError(f"{name!r} is not a key of this secret (allowed: {allowed.pattern})")

        def edit(values: dict[str, Any]) -> str:
            if value is None:
                if name not in values:
                    return "absent"
                del values[name]
                return "removed"
            before = values.get(name)
            values[name] = value
            return (
                "unchanged" if before == value else ("replaced" if before is not None else "added")
            )

        return {"key": name, **self._update(edit)}

    def rotate_path_secret(self, vendor: str) -> dict[str, Any]:
        """``WEBHOOK_PATH_SECRET_<VENDOR>_PREVIOUS`` = the secret vendors hold now (the vendor's
        own, else the deployment-wide one); ``WEBHOOK_PATH_SECRET_<VENDOR>`` = a new one."""
        from skill.aws.secrets import SHARED_PATH_SECRET, path_secret_name

        if not re.fullmatch(r"[a-z0-9_-]+", vendor):
            raise SecretsError(
                f"{vendor!r} is not an adapter name (lower-case letters, digits, - and _)"
            )
        current_key = path_secret_name(vendor)

        def edit(values: dict[str, Any]) -> str:
            held = values.get(current_key) or values.get(SHARED_PATH_SECRET)
            if not held:
                raise SecretsError(f"no {current_key} nor {SHARED_PATH_SECRET} to rotate from")
            values[f"{current_key}_PREVIOUS"] = held
            values[current_key] = random.token_hex(20)
            return "rotated"

        result = self._update(edit)
        return {
            "key": current_key,
            **result,
            "previous": f"{current_key}_PREVIOUS",
            "next": (
                f"vendors get the new URL at the next Discover or connection on the linking pages; "
                f"after that (and at least 10 minutes), skill secrets unset {current_key}_PREVIOUS"
            ),
        }

    # -- reading and writing -----------------------------------------------------------------------

    def _read(self) -> tuple[dict[str, Any], str]:
        try:
            answer = self._sm.get_secret_value(SecretId=self._id)
        except Exception as error:  # noqa: BLE001 - any AWS failure is told as a SecretsError
            raise SecretsError(f"secret {self._id}: {_why(error)}") from None
        text = answer.get("SecretString")
        try:
            values = json.loads(text) if text is not None else None
        except ValueError:
            values = None
        if not isinstance(values, dict):
            raise SecretsError(f"secret {self._id} does not hold a JSON object; nothing changed")
        return values, str(answer["VersionId"])

    def _current_version(self) -> str | None:
        versions = self._sm.describe_secret(SecretId=self._id).get("VersionIdsToStages", {})
        return next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)

    def _update(self, edit: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
        for _ in range(ATTEMPTS):
            values, version = self._read()
            change = edit(values)
            if change in ("unchanged", "absent"):
                return {
                    "secret": self.arn(),
                    "change": change,
                    "version_id": version,
                    "keys": sorted(values),
                }
            if self._current_version() != version:
                continue  # changed since we read it: merge again into the newer value
            try:
                answer = self._sm.put_secret_value(
                    SecretId=self._id,
                    SecretString=json.dumps(values),
                    ClientRequestToken=str(uuid.uuid4()),
                )
            except Exception as error:  # noqa: BLE001 - any AWS failure is told as a SecretsError
                raise SecretsError(f"secret {self._id}: {_why(error)}; nothing changed") from None
            return {
                "secret": str(answer["ARN"]),
                "change": change,
                "version_id": answer["VersionId"],
                "keys": sorted(values),
            }
        raise SecretsError(
            f"secret {self._id} kept changing while we wrote it; nothing changed, try again"
        )


def _in(region: str | None) -> str:
    return f" in {region}" if region else ""


def _why(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        detail = response.get("Error", {})
        return f"{detail.get('Code', type(error).__name__)}: {detail.get('Message', '')}".rstrip(
            ": "
        )
    return type(error).__name__
