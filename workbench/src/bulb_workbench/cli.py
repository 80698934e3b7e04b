"""``skill``: run the skill on this machine, on loopback, the way Alexa would use it.

- ``skill invoke FILE...``  the local ``sam local invoke``: starts the local stack, sends each
  directive file to the entrypoint in order and prints what Alexa receives, one JSON object per
  line on stdout: the synchronous answer, and for a ``DeferredResponse`` the events the Alexa
  event gateway then accepted for that directive (waiting up to the deadline + 2 s), before the
  next file. Logs go to stderr. Exit 0 when every file ran, whatever Alexa was answered; 2 when
  a file cannot be read or is not JSON (then nothing runs).

  The placeholder token ``demo-token`` in the files is replaced, before each file is sent, by
  what Alexa would send for the stack's demo user: an access token the local Cognito user pool
  issued to it (``--linking cognito``, the default), or, with ``--linking vendor`` (exactly one
  adapter, e.g. ``--adapters sim-sync``), that vendor's own credential.

  Account linking: Alexa sends AcceptGrant once, when the user links the skill; the dispatcher
  needs the LWA tokens it yields to post deferred answers. So unless the first file is itself an
  AcceptGrant (or ``--no-link`` is given), the demo user is linked with an AcceptGrant of a
  fresh code through the entrypoint, just before the first directive that is answered through
  the event gateway (Discover and ReportState are answered at once and do not wait for it);
  that AcceptGrant's answer is logged on stderr, not printed.

  ``--dump-state DIR``: after the run, every table's items, every queue's and DLQ's messages and
  the vendor simulator's counters (foreign credentials it was shown, per vendor; OAuth refreshes)
  as JSON files in DIR (``LocalStack.dump_state``).
- ``skill demo``  plays every directive in ``events/`` (AcceptGrant, Discover, ReportState, the
  control directives, then ``events/bad/``) and shows each answer with timings, for people; it
  ends with the foreign credentials the simulated vendors were shown (exit 4 if any).
- ``skill serve``  starts the local stack and keeps it up until interrupted (SIGINT, SIGTERM):
  one JSON line on stdout with its URLs (``linking_pages``: the linking pages, where the demo
  user signs in at ``login``, a local stand-in for the Cognito managed login, and connects
  simulator vendors; ``entrypoint``: POST a directive, get the entrypoint's answer, with
  ``demo-token`` replaced as ``skill invoke`` does; ``simulator``, ``gateway``, ``demo_user``),
  logs on stderr. The demo user is linked (AcceptGrant) first, so deferred answers reach the
  fake gateway.
- ``skill users list|disconnect|delete``  the skill's users and their vendor connections, for
  support and data-deletion requests (``skill.accounts``): against the local stack's
  environment or a deployed stack (``--stack``/``--region``).
- ``skill adapters``  the installed vendor adapters (entry points ``bulb_skill.adapters``) and
  their API styles.
- ``skill load``  a bounded load run of the local stack (simulated users, mixed styles, with and
  without injected faults) and its table: answered, errors by type, late drops, lost,
  duplicates, end-to-end latency (``bulb_workbench.local.load``). Exit 3 when a run lost a
  directive, answered one twice or after its deadline.

``invoke`` and ``demo`` take ``--faults vendor=P,gateway=Q,lwa=R`` (and ``--seed``): the vendor
simulator, the event gateway and LWA then fail that share of calls with timeouts, connection
resets, 5xx, 429 and malformed bodies (``bulb_workbench.local.faults``); linking the demo user
is done without faults.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2
#: ``skill demo``: a simulated vendor was shown another vendor's credential or a skill token.
EXIT_FOREIGN = 4

#: Directives answered at once, which need no event-gateway tokens.
_SYNCHRONOUS = frozenset({"AcceptGrant", "Discover", "ReportState"})

#: The order ``skill demo`` plays directives in: linking, discovery, state, then control.
_DEMO_ORDER = (
    "AcceptGrant",
    "Discover",
    "ReportState",
    "TurnOn",
    "SetBrightness",
    "AdjustBrightness",
    "SetColor",
    "SetColorTemperature",
    "IncreaseColorTemperature",
    "DecreaseColorTemperature",
    "TurnOff",
)
_STYLE_ORDER = {"sync": 0, "async": 1, "optimistic": 2, "polling": 3}


def main(argv: Sequence[str] | None = None) -> int:
    """The ``skill`` console command. Called without ``argv`` (as the console script), it owns
    the process and ends it as soon as the output is flushed, skipping the interpreter's
    teardown of moto and friends (about a second); with ``argv`` it returns the exit code."""
    code = _main(argv)
    if argv is None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_UNREADABLE
    alexa_out = sys.stdout
    # stdout is only what Alexa receives (invoke) or the report (demo): anything else the
    # handlers print (Powertools logs and EMF metrics write to stdout) goes to stderr instead.
    sys.stdout = _StrayOutput(sys.stderr, keep_metrics=args.verbose)
    try:
        return int(args.run(args, alexa_out))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from bulb_workbench.local._resources import TemplateError

        if not isinstance(exc, TemplateError):
            raise
        print(f"skill: {exc}", file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
        sys.stdout = alexa_out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skill", description="Run the bulb skill locally, on loopback (no AWS, no Docker)."
    )
    sub = parser.add_subparsers(dest="command")

    def stack_options(command: argparse.ArgumentParser) -> None:
        _local_stack_options(command)
        command.add_argument(
            "--linking",
            choices=("cognito", "vendor"),
            default="cognito",
            help="account linking: cognito (default; demo-token becomes the demo user's access "
            "token from the local user pool) or vendor (one adapter, e.g. --adapters "
            "sim-sync; demo-token becomes that vendor's own credential)",
        )
        command.add_argument(
            "--dump-state",
            type=Path,
            default=None,
            metavar="DIR",
            help="after the run, write every table's items, every queue's and DLQ's messages and "
            "the simulator's counters (foreign credentials per vendor) as JSON files in DIR",
        )

    invoke = sub.add_parser(
        "invoke",
        help="send directive files to the entrypoint; print what Alexa receives (JSON lines)",
        description=(
            "Start the local stack, send each directive file to the entrypoint in order and print "
            "what Alexa receives as JSON lines on stdout: the synchronous answer, then for a "
            "DeferredResponse the events the event gateway accepted for it. The placeholder token "
            "demo-token in the files is replaced by the demo user's access token from the local "
            "user pool (or, with --linking vendor, by the one vendor's own credential). Unless "
            "the first file is an AcceptGrant (or --no-link), the demo user is linked (AcceptGrant "
            "through the entrypoint) before the first directive answered through the gateway. "
            "Exit 0 when every file ran, 2 when a file cannot be read or the options do not fit "
            "(then nothing runs)."
        ),
    )
    invoke.add_argument(
        "files", nargs="+", metavar="FILE", help="directive JSON file ('-' = stdin)"
    )
    invoke.add_argument(
        "--no-link", action="store_true", help="do not link the demo user before the first file"
    )
    stack_options(invoke)
    invoke.set_defaults(run=_invoke)

    serve = sub.add_parser(
        "serve",
        help="run the local stack until interrupted; print its URLs (linking pages, entrypoint) "
        "as one JSON line",
        description=(
            "Start the local stack and keep it up until SIGINT or SIGTERM. Prints one JSON line "
            'on stdout: {"linking_pages", "entrypoint", "login", "simulator", '
            '"gateway", "demo_user": {"username", "password"}}. Open linking_pages in '
            "a browser and sign in as the demo user (at a local stand-in for the Cognito managed "
            "login) to connect or disconnect simulator vendors; POST a directive to entrypoint "
            "(curl -d @events/TurnOn.sync.json URL) to get the entrypoint's answer (demo-token "
            "is replaced by the demo user's access token). Logs on stderr."
        ),
    )
    _serve_options(serve)
    serve.set_defaults(run=_serve)

    demo = sub.add_parser(
        "demo", help="play every sample directive in events/ and show the answers"
    )
    demo.add_argument("--events", type=Path, default=None, help="directory of directives (events/)")
    stack_options(demo)
    demo.set_defaults(run=_demo)

    adapters = sub.add_parser("adapters", help="list installed vendor adapters and their styles")
    adapters.add_argument("-v", "--verbose", action="store_true")
    adapters.set_defaults(run=_adapters)

    load = sub.add_parser(
        "load",
        help="a bounded load run of the local stack, with and without faults; prints the figures",
        description=(
            "Start the local stack once per fault profile, add simulated users (each a user of the "
            "local Cognito pool with an account of its own at every simulated vendor, connected "
            "to the skill; each links the skill and discovers its bulbs, and sends its own access "
            "token), send users x per-user mixed control directives at "
            "--rate from --threads threads, wait for every answer (deadline + grace), and print "
            "answered, errors by type, late drops, lost, duplicates and end-to-end latency. "
            "Exit 0 when no run lost a directive, answered one twice or late, or showed a vendor "
            "a credential not its own; else 3."
        ),
    )
    load.add_argument("--users", type=int, default=50, help="simulated users (50)")
    load.add_argument("--per-user", type=int, default=20, help="directives per user (20)")
    load.add_argument("--rate", type=float, default=4.0, help="directives per second, overall (4)")
    load.add_argument("--threads", type=int, default=4, help="threads calling the entrypoint (4)")
    load.add_argument(
        "--faults",
        action="append",
        metavar="PROFILE",
        type=_fault_spec,
        help="a fault profile, one run each; repeat it ('none' = no faults; default: none and "
        "vendor=0.2,gateway=0.2)",
    )
    load.add_argument("--seed", type=int, default=0, help="seed of the plan and the faults (0)")
    load.add_argument("--deadline", type=float, default=8.0, help="Alexa's deadline, s (8)")
    load.add_argument(
        "--grace",
        type=float,
        default=3.0,
        help="after a deadline, how long an answer is waited for before it is lost (3)",
    )
    load.add_argument("--latency", type=float, default=0.05, help="vendor answer time, s (0.05)")
    load.add_argument(
        "--transition", type=float, default=0.6, help="202-command landing time, s (0.6)"
    )
    load.add_argument(
        "--expire-every",
        type=float,
        default=None,
        help="expire every access token at LWA this often, s (10 with LWA faults; 0 = never)",
    )
    load.add_argument(
        "--outage",
        action="store_true",
        help="then a vendor outage: sim-sync fails every call, then recovers; prints what the "
        "circuit breaker did (opened after, calls spared, time to recover)",
    )
    load.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    load.add_argument("-v", "--verbose", action="store_true", help="handler logs (INFO) on stderr")
    load.set_defaults(run=_load)

    dlq = sub.add_parser(
        "dlq",
        help="list, show and redrive dead-letter messages (AWS, or the local stack's moto)",
        description=(
            "Dead-letter queues of a deployed stack (--stack NAME --region REGION: the DLQs its "
            "outputs name, which show and redrive take by short name: outbox, sync, async, "
            "optimistic, polling, poll), of the AWS environment's region by name or URL, or of a "
            "running local stack (set AWS_ENDPOINT_URL to its moto server). Tokens and secrets "
            "in message bodies are masked."
        ),
    )
    dlq.add_argument("-v", "--verbose", action="store_true")
    dlq.add_argument(
        "--stack", default=None, help="a deployed stack's name: its DLQs, from its outputs"
    )
    dlq.add_argument("--region", default=None, help="its region (default: the AWS environment's)")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_sub.add_parser(
        "list", help="dead-letter queues, their sources and message counts"
    )
    dlq_list.add_argument("--prefix", default="", help="queue name prefix, e.g. the stack name")
    dlq_show = dlq_sub.add_parser("show", help="a DLQ's messages, tokens masked, left in place")
    dlq_show.add_argument("queue", help="DLQ name or URL")
    dlq_show.add_argument("-n", "--max", type=int, default=10, help="at most this many (10)")
    dlq_redrive = dlq_sub.add_parser("redrive", help="send a DLQ's messages back to be processed")
    dlq_redrive.add_argument("queue", help="DLQ name or URL")
    dlq_redrive.add_argument("--to", help="destination queue (default: the DLQ's one source queue)")
    dlq_redrive.add_argument(
        "--id", dest="ids", action="append", help="only this message id (repeatable)"
    )
    for command in (dlq_list, dlq_show, dlq_redrive):  # --stack/--region after the subcommand too
        command.add_argument("--stack", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        command.add_argument("--region", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    dlq.set_defaults(run=_dlq)

    _users_parser(sub)
    from bulb_workbench.cli_secrets import add_parser as _secrets_parser

    _secrets_parser(sub)
    return parser


def _local_stack_options(command: argparse.ArgumentParser) -> None:
    """The options of every command that starts the local stack."""
    command.add_argument(
        "--latency", type=float, default=0.05, help="vendor simulator answer time, s (0.05)"
    )
    command.add_argument(
        "--transition",
        type=float,
        default=0.6,
        help="time for a vendor's 202-accepted command to reach the bulb, s (0.6)",
    )
    command.add_argument(
        "--deadline", type=float, default=8.0, help="seconds Alexa waits for a deferred answer (8)"
    )
    command.add_argument(
        "--adapters",
        default=None,
        help="enabled adapters, comma-separated (default: the four simulator adapters)",
    )
    command.add_argument("--template", type=Path, default=None, help="SAM template (template.yaml)")
    command.add_argument(
        "-v", "--verbose", action="store_true", help="handler logs (INFO) on stderr"
    )
    _stage_options(command)
    _fault_options(command)


def _serve_options(command: argparse.ArgumentParser) -> None:
    _local_stack_options(command)
    command.add_argument(
        "--demo-vendors",
        default=None,
        metavar="VENDORS",
        help="the vendors the demo user has connected at the start, comma-separated ('' = none, "
        "to connect them on the linking pages; default: every enabled one)",
    )


def _fault_spec(text: str) -> str:
    """``--faults`` as given, once it parses (argparse reports a bad one as a usage error)."""
    from bulb_workbench.local.faults import FaultProfile

    try:
        FaultProfile.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _fault_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--faults",
        type=_fault_spec,
        default=None,
        metavar="vendor=P,gateway=Q,lwa=R",
        help="fail this share (0-1) of the vendor simulator's, the event gateway's and LWA's calls "
        "(timeouts, resets, 5xx, 429, malformed bodies); also kinds=timeout+5xx...",
    )
    command.add_argument("--seed", type=int, default=0, help="seed of the injected faults (0)")


# -- skill load ----------------------------------------------------------------------------------


def _load(args: argparse.Namespace, out: TextIO) -> int:
    _quiet_handlers(args.verbose)
    from bulb_workbench.local.load import main as load_main

    return load_main(args, out)


# -- skill invoke -------------------------------------------------------------------------------


def _invoke(args: argparse.Namespace, out: TextIO) -> int:
    events: list[tuple[str, Any]] = []
    unreadable = False
    for name in args.files:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text()
            events.append((name, json.loads(text)))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            print(f"skill invoke: cannot read {name}: {exc}", file=sys.stderr)
            unreadable = True
    if unreadable:
        return EXIT_UNREADABLE
    refusal = _options_refusal(args)
    if refusal:
        print(f"skill invoke: {refusal}", file=sys.stderr)
        return EXIT_UNREADABLE

    began = time.perf_counter()
    with _stack(args) as stack:
        _log(f"local stack up in {stack.startup_seconds * 1000:.0f} ms ({_linking_note(stack)})")
        token = stack.demo_token()
        link = not args.no_link and _directive_name(events[0][1]) != "AcceptGrant"
        for name, event in events:
            if link and _directive_name(event) not in _SYNCHRONOUS:
                stack.link_demo_user(token)
                _log("linked the demo user (AcceptGrant through the entrypoint)")
                link = False
            for message in _play(stack, stack.with_demo_token(event, token), name):
                out.write(json.dumps(message) + "\n")
                out.flush()
        if stack.faults is not None:
            _log(f"faults injected: {stack.faults.summary()}")
        _log(_foreign_line(stack))
        if args.dump_state is not None:
            index = stack.dump_state(args.dump_state)
            _log(
                f"state written to {args.dump_state}: {len(index['tables'])} tables, "
                f"{len(index['queues'])} queues, simulator counters"
            )
    _log(f"done in {(time.perf_counter() - began) * 1000:.0f} ms")
    return EXIT_OK


def _stage_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="VENDOR=MODULE:STUB",
        help="serve VENDOR from an adapter author's bulb_skill_kit.VendorStub on loopback (or "
        "VENDOR=https://... to forward to the real cloud) and enable its adapter; "
        "repeatable (docs/adapters.md, the local stage)",
    )


def _stages(args: argparse.Namespace) -> dict[str, Any]:
    """``--stage`` -> {vendor: LocalVendor} (not started); ValueError with a plain message."""
    from bulb_skill_kit import LocalVendor, VendorStub
    from bulb_skill_kit.__main__ import load_stub

    staged: dict[str, Any] = {}
    for spec in getattr(args, "stage", None) or []:
        vendor, sep, source = spec.partition("=")
        if not sep or not vendor or not source:
            raise ValueError(f"--stage wants VENDOR=MODULE:STUB or VENDOR=URL, not {spec!r}")
        if source.startswith(("http://", "https://")):
            stub = VendorStub.forwarding(vendor, source)
        else:
            stub = load_stub(source)
        staged[vendor] = LocalVendor(stub)
    return staged


def _unlinkable(args: argparse.Namespace, staged: dict[str, Any]) -> str | None:
    """Why the demo user cannot be linked: an enabled adapter that is neither a simulator
    vendor nor staged has no account here (not a traceback later)."""
    from bulb_workbench.local.stack import DEFAULT_ADAPTERS

    names = [n.strip() for n in (args.adapters or DEFAULT_ADAPTERS).split(",") if n.strip()]
    for name in names:
        if not name.startswith("sim-") and name not in staged:
            return (
                f"the demo user has no credential for {name!r}: the local stack links only the "
                f"simulator's vendors (sim-*); serve a stub of it with --stage {name}=MODULE:STUB "
                "(a bulb_skill_kit.VendorStub with credential=...), see docs/adapters.md, "
                "'Try it locally'"
            )
    return None


def _linking_refusal(args: argparse.Namespace) -> str | None:
    """Why the options cannot run (``--linking vendor`` with other than one adapter)."""
    if getattr(args, "linking", "cognito") != "vendor":
        return None
    from bulb_workbench.local.stack import DEFAULT_ADAPTERS

    names = [n.strip() for n in (args.adapters or DEFAULT_ADAPTERS).split(",") if n.strip()]
    if len(names) == 1:
        return None
    return (
        "--linking vendor passes one vendor's own token through as the linking token, so it "
        f"needs exactly one adapter (e.g. --adapters sim-sync); enabled: {', '.join(names)}"
    )


def _options_refusal(args: argparse.Namespace) -> str | None:
    """Why the options cannot run: vendor linking with other than one adapter, a ``--stage``
    that cannot be loaded, an adapter nobody can link the demo user to."""
    refusal = _linking_refusal(args)
    if refusal:
        return refusal
    try:
        args.staged = _stages(args)
    except (ValueError, ImportError, AttributeError) as exc:
        return f"--stage: {exc}"
    if args.staged:
        wanted = [n.strip() for n in (args.adapters or "").split(",") if n.strip()]
        from bulb_workbench.local.stack import DEFAULT_ADAPTERS

        base = wanted or [n.strip() for n in DEFAULT_ADAPTERS.split(",")]
        args.adapters = ",".join(dict.fromkeys(base + list(args.staged)))
    return _unlinkable(args, args.staged)


def _linking_note(stack: Any) -> str:
    if stack.linking == "vendor":
        return f"vendor linking: demo-token is {stack.linking_vendor}'s own credential"
    return "cognito linking: demo-token is the demo user's access token from the local user pool"


def _foreign_line(stack: Any) -> str:
    foreign = {v: n for v, n in stack.simulator.foreign_credentials().items() if n}
    if not foreign:
        return "foreign credentials seen by the simulated vendors: none"
    return "FOREIGN CREDENTIALS seen by the simulated vendors: " + ", ".join(
        f"{vendor} {count}" for vendor, count in sorted(foreign.items())
    )


def _play(stack: Any, event: Any, name: str) -> Iterator[dict[str, Any]]:
    """The synchronous answer at once, then the gateway's events for a deferred directive."""
    started = time.perf_counter()
    answer = stack.invoke(event)
    _log(f"{name}: {_answer_name(answer)} in {(time.perf_counter() - started) * 1000:.0f} ms")
    yield answer
    token = _deferred_token(answer)
    if token is None:
        return
    missing = stack.deferred_path_missing(_endpoint_id(event) or "")
    if missing:
        _log(f"{name}: no deferred answer locally: {', '.join(missing)} not there yet")
        return
    final = stack.wait_for_answer(token)
    yield from final
    if not any(_answer_name(m) in ("Response", "ErrorResponse") for m in final):
        _log(f"{name}: no final answer reached the gateway within {stack.deadline_seconds + 2:g} s")
    else:
        _log(
            f"{name}: {_answer_name(final[-1])} at the gateway "
            f"{(time.perf_counter() - started) * 1000:.0f} ms after the directive"
        )


# -- skill serve ---------------------------------------------------------------------------------


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    import signal

    refusal = _options_refusal(args)
    if refusal:
        print(f"skill serve: {refusal}", file=sys.stderr)
        return EXIT_UNREADABLE
    stop = threading.Event()

    def interrupted(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _stack(args) as stack:
            _log(f"local stack up in {stack.startup_seconds * 1000:.0f} ms")
            stack.link_demo_user()
            _log("linked the demo user (AcceptGrant through the entrypoint)")
            from bulb_workbench.local.stack import write_sam_local_env

            try:  # for sam local invoke (events/README.md)
                env_json = write_sam_local_env(stack)
                _log(
                    f"sam local invoke: --env-vars {env_json} -e "
                    f"{env_json.parent / 'events'}/<file>"
                )
            except OSError as error:
                _log(f"env.json for sam local invoke not written: {error}")
            urls = stack.urls()
            out.write(json.dumps(urls) + "\n")
            out.flush()
            demo = urls["demo_user"] or {}
            _log(
                f"linking pages: {urls['linking_pages']} (sign in as {demo.get('username')} / "
                f"{demo.get('password')}); entrypoint: POST a directive to {urls['entrypoint']}"
            )
            _log("serving until interrupted (Ctrl-C)")
            while not stop.wait(0.2):
                pass
            _log("stopping")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return EXIT_OK


# -- skill demo ----------------------------------------------------------------------------------


@dataclass
class _Played:
    file: str
    directive: str
    endpoint: str
    answer: str
    sync_ms: float
    final: str = "-"
    final_ms: float | None = None
    valid: bool = True
    messages: list[dict[str, Any]] = field(default_factory=list)


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    folder = args.events or _default_events()
    files = _demo_files(folder)
    if not files:
        print(f"skill demo: no directives in {folder}", file=sys.stderr)
        return EXIT_UNREADABLE
    refusal = _options_refusal(args)
    if refusal:
        print(f"skill demo: {refusal}", file=sys.stderr)
        return EXIT_UNREADABLE
    from bulb_workbench.local._faults_tally import Outcomes
    from bulb_workbench.local.schema import schema_errors

    write = _printer(out)
    tally = Outcomes()
    write("Starting the local stack (moto, vendor simulator, fake LWA and event gateway)...")
    played: list[_Played] = []
    with _stack(args) as stack, tally.tapped():
        write(
            f"  up in {stack.startup_seconds * 1000:.0f} ms (resources from {stack.template.name})."
        )
        write(f"  {_linking_note(stack)}.")
        if stack.linking_url:
            demo_user = stack.urls()["demo_user"]
            write(
                f"  Linking pages: {stack.linking_url} (while the demo runs; `skill serve` keeps "
                f"them up): sign in as {demo_user['username']} / {demo_user['password']}."
            )
        demo_token = stack.demo_token()
        write("  Times: 'answer' is the entrypoint's synchronous answer; 'event' is when the event")
        write(
            "  gateway accepted a deferred answer, counted from the moment Alexa sent the "
            "directive.\n"
        )
        link = _directive_name(files[0][1]) != "AcceptGrant"
        for path, sample in files:
            event = stack.with_demo_token(sample, demo_token)
            if link and _directive_name(event) not in _SYNCHRONOUS:
                stack.link_demo_user(demo_token)
                link = False
            label = path.relative_to(folder).as_posix()
            write(f"> {label}: {_directive_name(event)}" + _target(event))
            started = time.perf_counter()
            late_before = tally.count("LateDrops")
            answer = stack.invoke(event)
            sync_ms = (time.perf_counter() - started) * 1000
            row = _Played(
                label,
                _directive_name(event) or "?",
                _endpoint_id(event) or "-",
                _answer_name(answer),
                sync_ms,
                messages=[answer],
            )
            write(f"    answer {_describe(answer):<72} {sync_ms:6.0f} ms")
            token = _deferred_token(answer)
            if token is not None:
                missing = stack.deferred_path_missing(_endpoint_id(event) or "")
                if missing:
                    row.final = "(not available)"
                    write(f"    final  (deferred path not there yet: {', '.join(missing)})")
                else:
                    final = stack.wait_for_answer(token)
                    for message in final:
                        arrived = _arrival_ms(stack, message, started)
                        write(f"    event  {_describe(message):<72} {arrived:6.0f} ms")
                    row.messages += final
                    if final:
                        row.final = _answer_name(final[-1])
                        row.final_ms = _arrival_ms(stack, final[-1], started)
                    else:
                        # what the skill decided: a counted late drop, or nothing (lost)
                        late = "late" in tally.of(token) or tally.count("LateDrops") > late_before
                        row.final = "late (counted)" if late else "(none: lost)"
                        write(
                            "    final  nothing reached the gateway in "
                            f"{stack.deadline_seconds + 2:g} s"
                            + ("; the skill counted it as a late drop" if late else "")
                        )
            row.valid = all(not schema_errors(m) for m in row.messages)
            played.append(row)
            write("")
        stack.wait_idle(3)
        _summary(write, played, stack)
        foreign = sum(stack.simulator.foreign_credentials().values())
        write(_foreign_line(stack))
        if args.dump_state is not None:
            stack.dump_state(args.dump_state)
            write(f"state written to {args.dump_state} (tables, queues, simulator counters)")
    return EXIT_FOREIGN if foreign else EXIT_OK


def _summary(write: Callable[[str], None], played: list[_Played], stack: Any) -> None:
    headers = (
        "directive file",
        "endpoint",
        "answer",
        "ms",
        "deferred answer",
        "ms",
        "schema-valid",
    )
    rows = [
        (
            p.file,
            p.endpoint,
            p.answer,
            f"{p.sync_ms:.0f}",
            p.final,
            "-" if p.final_ms is None else f"{p.final_ms:.0f}",
            "yes" if p.valid else "NO",
        )
        for p in played
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = {3, 5}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    write("Summary")
    write(line(headers))
    write(line(["-" * w for w in widths]))
    for row in rows:
        write(line(row))
    finals = [p.final_ms for p in played if p.final_ms is not None]
    valid = sum(p.valid for p in played)
    write("")
    write(
        f"{len(played)} directives, {valid} with every message schema-valid; "
        f"{len(stack.gateway.accepted())} events accepted by the gateway, "
        f"{len(stack.gateway.rejected())} rejected; LWA calls: {stack.lwa.calls}"
    )
    if stack.faults is not None:
        write(
            f"faults ({stack.faults.profile}, seed {stack.faults.profile.seed}): "
            f"{stack.faults.summary()}"
        )
    if finals:
        finals.sort()
        write(
            f"deferred answers: median {finals[len(finals) // 2]:.0f} ms, "
            f"slowest {finals[-1]:.0f} ms (Alexa waits {stack.deadline_seconds:g} s)"
        )


def _demo_files(folder: Path) -> list[tuple[Path, Any]]:
    found: list[tuple[Path, Any]] = []
    for path in sorted(folder.glob("*.json")) + sorted(folder.glob("bad/*.json")):
        try:
            event = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            print(f"skill demo: skipping {path}: {exc}", file=sys.stderr)
            continue
        if isinstance(event, dict) and isinstance(event.get("directive"), dict):
            found.append((path, event))

    def order(item: tuple[Path, Any]) -> tuple[int, int, int, str]:
        path, event = item
        name = _directive_name(event) or ""
        rank = _DEMO_ORDER.index(name) if name in _DEMO_ORDER else len(_DEMO_ORDER)
        style = path.stem.rsplit(".", 1)[-1]
        return (path.parent != folder, rank, _STYLE_ORDER.get(style, 9), path.name)

    return sorted(found, key=order)


def _default_events() -> Path:
    local = Path.cwd() / "events"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parents[3] / "events"


def _arrival_ms(stack: Any, message: dict[str, Any], started_perf: float) -> float:
    """When the gateway accepted ``message``, in ms after the directive was sent."""
    started_wall = time.time() - (time.perf_counter() - started_perf)
    for entry in stack.gateway.accepted_with_times():
        if entry.message is message or entry.message == message:
            return (entry.received_at - started_wall) * 1000
    return float("nan")


# -- skill adapters ------------------------------------------------------------------------------


def _adapters(args: argparse.Namespace, out: TextIO) -> int:
    from skill.plugins import AdapterContext, installed_adapters

    entries = installed_adapters()
    if not entries:
        out.write("no adapters installed (entry-point group bulb_skill.adapters)\n")
        return EXIT_OK
    rows = []
    for name, entry in sorted(entries.items()):
        try:
            adapter = entry.load()(AdapterContext(vendor=name, environ=dict(os.environ)))
            style = getattr(
                getattr(adapter, "style", None), "value", str(getattr(adapter, "style", "?"))
            )
        except Exception as exc:  # noqa: BLE001 - an adapter may need settings to be built
            style = f"? ({type(exc).__name__}: {str(exc)[:60]})"
        package = entry.dist.name if entry.dist else "?"
        rows.append((name, style, package, entry.value))
    widths = [
        max(len(h), *(len(r[i]) for r in rows))
        for i, h in enumerate(("adapter", "style", "package", "factory"))
    ]
    out.writelines(
        "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip() + "\n"
        for cells in [("adapter", "style", "package", "factory"), *rows]
    )
    return EXIT_OK


def _dlq(args: argparse.Namespace, out: TextIO) -> int:
    from bulb_workbench import dlq

    if args.region:  # boto3 reads the region from the process's environment
        from skill.aws import forget_clients

        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
        forget_clients()  # clients made for another region
    stack = args.stack
    try:
        if args.dlq_command == "list":
            queues = (
                dlq.stack_dead_letter_queues(stack)
                if stack
                else dlq.dead_letter_queues(args.prefix)
            )
            rows = [q.to_dict() for q in queues]
        elif args.dlq_command == "show":
            rows = [m.to_dict() for m in dlq.peek(dlq.queue_url(args.queue, stack=stack), args.max)]
        else:
            to = dlq.queue_url(args.to) if args.to else None
            rows = [dlq.redrive(dlq.queue_url(args.queue, stack=stack), to, args.ids).to_dict()]
    except dlq.DlqError as error:
        print(f"skill dlq: {error}", file=sys.stderr)
        return 1
    out.writelines(json.dumps(row) + "\n" for row in rows)
    return EXIT_OK


# -- skill users ---------------------------------------------------------------------------------

_USERS_HELP = """\
The skill's users (Cognito user ids, or vendor account ids in vendor linking mode) and the
vendors each has connected, through skill.accounts. Output: JSON lines, never a credential.

  list                   every user: the vendors connected (vendor account id, when, grace
                         period), how many bulbs, whether Alexa is linked (LWA tokens kept)
  disconnect USER VENDOR one vendor connection: its credential, bulb owner records and pending
                         commands go, the vendor webhook is deregistered where the adapter
                         registered one, and Alexa gets a DeleteReport for its bulbs
  delete USER            everything of the user (support, data-deletion requests): every vendor
                         connection as above, remaining owner records, the LWA tokens, and the
                         user's account in the Cognito user pool (unless --keep-login)

Where: the stack named by --stack (with --region or the AWS environment), found through
CloudFormation; else the environment's settings (CREDENTIALS_TABLE, CREDENTIALS_KEY_ID,
STATE_TABLE, TOKENS_TABLE, OUTBOX_QUEUE_URL, COGNITO_ISSUER, ADAPTERS...), which is how it
runs against a local stack (its environment, AWS_ENDPOINT_URL pointing at its moto server).

What a deployed run can and cannot do: an operator's role has no use of the credentials key
(only the functions that call vendors may decrypt), so a deployed run cannot read a vendor
credential: deregistering a vendor webhook needs the credential and is best effort (it is
skipped, and said so, when the key refuses; the vendor then pushes to a URL that no longer
knows the bulbs, which is harmless). The rest needs DynamoDB (the credentials, pending and
tokens tables), sqs:SendMessage on the outbox (the DeleteReport is sent by the dispatcher with
the user's LWA token) and, for delete, cognito-idp:ListUsers and AdminDeleteUser.
"""


def _users_parser(sub: Any) -> None:
    users = sub.add_parser(
        "users",
        help="list the skill's users, disconnect a vendor, delete a user (support, data deletion)",
        description=_USERS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    users.add_argument("--stack", default=None, help="a deployed stack's name (CloudFormation)")
    users.add_argument("--region", default=None, help="its region (default: the AWS environment's)")
    users.add_argument("-v", "--verbose", action="store_true")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    users_sub.add_parser("list", help="users, their connected vendors and bulbs (no secrets)")
    disconnect = users_sub.add_parser("disconnect", help="delete one vendor connection of a user")
    disconnect.add_argument("user", metavar="USER", help="the user id")
    disconnect.add_argument("vendor", metavar="VENDOR", help="the vendor (adapter name)")
    delete = users_sub.add_parser("delete", help="delete everything of a user")
    delete.add_argument("user", metavar="USER", help="the user id")
    delete.add_argument(
        "--keep-login",
        action="store_true",
        help="keep the user's account in the Cognito user pool (only the skill's data goes)",
    )
    users.set_defaults(run=_users)


def _users(args: argparse.Namespace, out: TextIO) -> int:
    import logging

    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        environ = _users_environment(args)
        os.environ.update(environ)  # boto3 reads the region and endpoint from the process's
        operator = _Operator(environ)
    except _UsersError as error:
        print(f"skill users: {error}", file=sys.stderr)
        return EXIT_FAILED
    write = _printer(out)
    if args.users_command == "list":
        for row in operator.list_users():
            write(json.dumps(row))
        return EXIT_OK
    if args.users_command == "disconnect":
        vendors = operator.accounts.credentials.connected(args.user)
        if args.vendor not in vendors:
            print(
                f"skill users: {args.user} has not connected {args.vendor} "
                f"(connected: {', '.join(vendors) or 'none'})",
                file=sys.stderr,
            )
            return EXIT_FAILED
        write(json.dumps(_disconnected(operator.accounts.disconnect(args.user, args.vendor))))
        return EXIT_OK
    done = operator.accounts.delete_user(args.user)
    login = "kept" if args.keep_login else operator.delete_login(args.user)
    write(
        json.dumps(
            {
                "user_id": args.user,
                "disconnected": [_disconnected(d) for d in done],
                "lwa_tokens": "deleted",
                "login": login,
            }
        )
    )
    return EXIT_OK


class _UsersError(Exception):
    pass


def _disconnected(result: Any) -> dict[str, Any]:
    return {
        "vendor": result.vendor,
        "bulbs": len(result.endpoints),
        "pending_deleted": result.pending_deleted,
        "delete_report": bool(result.endpoints),
        "webhook_deregistered": result.webhook_deregistered,
    }


#: Logical ids of the deployed stack's resources ``skill users`` needs -> their variables.
_STACK_RESOURCES = {
    "CredentialsTable": "CREDENTIALS_TABLE",
    "CredentialsKey": "CREDENTIALS_KEY_ID",
    "StateTable": "STATE_TABLE",
    "TokensTable": "TOKENS_TABLE",
    "OutboxQueue": "OUTBOX_QUEUE_URL",
    "VendorSecrets": "VENDOR_SECRETS_NAME",
    "UserPool": "COGNITO_USER_POOL_ID",
}


def _users_environment(args: argparse.Namespace) -> dict[str, str]:
    environ = dict(os.environ)
    if args.region:
        environ["AWS_REGION"] = environ["AWS_DEFAULT_REGION"] = args.region
    if not args.stack:
        missing = [
            v
            for v in ("CREDENTIALS_TABLE", "STATE_TABLE", "OUTBOX_QUEUE_URL")
            if not environ.get(v)
        ]
        if missing:
            raise _UsersError(
                f"no stack: give --stack NAME (and --region), or set {', '.join(missing)} "
                "(the local stack's environment has them)"
            )
        return environ
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=args.region)
    try:
        found = cloudformation.describe_stack_resources(StackName=args.stack)["StackResources"]
    except Exception as error:  # noqa: BLE001 - said to the operator as it is
        raise _UsersError(f"stack {args.stack}: {error}") from None
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in found}
    for logical, variable in _STACK_RESOURCES.items():
        if physical.get(logical):
            environ[variable] = physical[logical]
    if "CREDENTIALS_TABLE" not in environ:
        raise _UsersError(f"stack {args.stack} has no CredentialsTable (an older version?)")
    return environ


class _Operator:
    """The operator's side of ``skill.accounts``: stores of its own, the vault read without
    decrypting (list), and the Cognito user pool."""

    def __init__(self, environ: dict[str, str]) -> None:
        from skill.accounts import Accounts
        from skill.aws.secrets import secret_source
        from skill.aws.stores import (
            DynamoCredentialVault,
            DynamoStateStore,
            DynamoTokenStore,
            SqsOutbox,
        )
        from skill.config import settings_from
        from skill.credentials import Credentials
        from skill.plugins import AdapterRegistry

        self.environ = environ
        config = settings_from(environ)
        self.config = config
        base = config.webhook_base_url.rstrip("/")
        secret = secret_source(environ)
        try:
            adapters = AdapterRegistry.from_environment(environ, secrets=secret)
        except RuntimeError as error:
            raise _UsersError(str(error)) from None
        self.accounts = Accounts(
            Credentials(DynamoCredentialVault(config.credentials_table, config.credentials_key_id)),
            adapters,
            DynamoStateStore(config.state_table),
            SqsOutbox(config.outbox_queue_url),
            DynamoTokenStore(config.tokens_table),
            webhook_url_for=(lambda v: f"{base}/{v}/{secret('WEBHOOK_PATH_SECRET')}")
            if base
            else None,
        )

    def _client(self, service: str) -> Any:
        from skill.aws import client

        return client(service)

    def list_users(self) -> list[dict[str, Any]]:
        """Every user the vault, the tokens table or an owner record knows, with the vendors
        connected; only ids, dates and counts are read (never the ciphertext or a token)."""
        db = self._client("dynamodb")
        users: dict[str, dict[str, Any]] = {}

        def user(user_id: str) -> dict[str, Any]:
            return users.setdefault(
                user_id, {"user_id": user_id, "vendors": [], "bulbs": 0, "alexa_linked": False}
            )

        for page in db.get_paginator("scan").paginate(
            TableName=self.config.credentials_table,
            ProjectionExpression="user_id, vendor, account_id, updated_at, expires_at",
        ):
            for item in page.get("Items", []):
                vendor: dict[str, Any] = {
                    "vendor": item["vendor"]["S"],
                    "account_id": item.get("account_id", {}).get("S"),
                }
                if "updated_at" in item:
                    vendor["connected_at"] = _iso(float(item["updated_at"]["N"]))
                if "expires_at" in item:
                    vendor["deleted_after"] = _iso(float(item["expires_at"]["N"]))
                user(item["user_id"]["S"])["vendors"].append(vendor)
        for page in db.get_paginator("scan").paginate(
            TableName=self.config.tokens_table, ProjectionExpression="user_id"
        ):
            for item in page.get("Items", []):
                user(item["user_id"]["S"])["alexa_linked"] = True
        for owner in self.accounts.pending.owners():
            user(owner.user_id)["bulbs"] += 1
        for row in users.values():
            row["vendors"].sort(key=lambda v: v["vendor"])
        return sorted(users.values(), key=lambda r: r["user_id"])

    def delete_login(self, user_id: str) -> str:
        """Delete the user's account in the Cognito user pool: found by ``sub``."""
        pool = (
            self.environ.get("COGNITO_USER_POOL_ID")
            or self.config.cognito_issuer.rstrip("/").rpartition("/")[2]
        )
        if not pool or self.config.account_linking == "vendor":
            return "no user pool (vendor linking)"
        cognito = self._client("cognito-idp")
        try:
            found = cognito.list_users(UserPoolId=pool, Filter=f'sub = "{user_id}"', Limit=1)[
                "Users"
            ]
            if not found:
                return "not in the user pool"
            cognito.admin_delete_user(UserPoolId=pool, Username=found[0]["Username"])
        except Exception as error:  # noqa: BLE001 - the rest is done: say what failed
            print(
                f"skill users: the login was not deleted ({type(error).__name__}: {error})",
                file=sys.stderr,
            )
            return "not deleted (see stderr)"
        return "deleted"


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- shared ----------------------------------------------------------------------------------------


def _stack(args: argparse.Namespace) -> Any:
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO" if args.verbose else "WARNING"
    import logging

    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from bulb_workbench.local.faults import profile_of
    from bulb_workbench.local.stack import DEFAULT_ADAPTERS, LocalStack

    return LocalStack(
        template=args.template,
        latency=args.latency,
        transition=args.transition,
        deadline_seconds=args.deadline,
        adapters=args.adapters or DEFAULT_ADAPTERS,
        faults=profile_of(args.faults, seed=args.seed) if args.faults else None,
        linking=getattr(args, "linking", "cognito"),
        demo_vendors=getattr(args, "demo_vendors", None),
        stages=getattr(args, "staged", None),
    )


def _quiet_handlers(verbose: bool) -> None:
    """``skill load``: handler logs at ERROR (a faulted run warns on every retry), INFO if -v."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO" if verbose else "ERROR"
    import logging

    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _log(message: str) -> None:
    print(f"skill: {message}", file=sys.stderr, flush=True)


def _printer(out: TextIO) -> Callable[[str], None]:
    def write(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    return write


def _header(message: Any, root: str) -> dict[str, Any]:
    try:
        header = message[root]["header"]
        return header if isinstance(header, dict) else {}
    except (TypeError, KeyError):
        return {}


def _directive_name(event: Any) -> str | None:
    return _header(event, "directive").get("name")


def _endpoint_id(event: Any) -> str | None:
    try:
        return str(event["directive"]["endpoint"]["endpointId"])
    except (TypeError, KeyError):
        return None


def _answer_name(message: Any) -> str:
    return str(_header(message, "event").get("name", "?"))


def _deferred_token(answer: Any) -> str | None:
    header = _header(answer, "event")
    if header.get("name") == "DeferredResponse":
        return header.get("correlationToken")
    return None


def _target(event: Any) -> str:
    endpoint = _endpoint_id(event)
    payload = event["directive"].get("payload") or {}
    shown = {k: v for k, v in payload.items() if k not in ("scope", "grantee", "grant")}
    parts = [f" -> {endpoint}" if endpoint else "", f" {json.dumps(shown)}" if shown else ""]
    return "".join(parts)


def _describe(message: Any) -> str:
    """One line for a person: the event name and what matters in it."""
    name = _answer_name(message)
    event = message.get("event", {}) if isinstance(message, dict) else {}
    payload = event.get("payload") or {}
    if name == "ErrorResponse":
        text = f"ErrorResponse {payload.get('type')}: {payload.get('message', '')}"
        if "validRange" in payload:
            text += f" validRange={json.dumps(payload['validRange'])}"
        return _clip(text)
    if name == "DeferredResponse":
        return f"DeferredResponse (estimated {payload.get('estimatedDeferralInSeconds')} s)"
    if name == "Discover.Response":
        endpoints = payload.get("endpoints") or []
        return f"Discover.Response: {len(endpoints)} endpoints"
    properties = (message.get("context") or {}).get("properties") or []
    shown = [_property(p) for p in properties if p.get("namespace") != "Alexa.EndpointHealth"]
    if shown:
        return _clip(f"{name}: " + ", ".join(shown))
    return name


def _property(prop: dict[str, Any]) -> str:
    value = prop.get("value")
    if isinstance(value, dict) and "hue" in value:
        value = f"hsb({value['hue']:g},{value['saturation']:g},{value['brightness']:g})"
    elif isinstance(value, dict) and "value" in value:
        value = value["value"]
    short = {"powerState": "power", "colorTemperatureInKelvin": "kelvin"}.get(
        prop.get("name", ""), prop.get("name")
    )
    return f"{short}={value}"


def _clip(text: str, width: int = 72) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class _StrayOutput(io.TextIOBase):
    """Where ``print`` goes while the CLI runs: stderr, without EMF metric documents unless
    verbose (Powertools' ``single_metric`` prints them even with metrics disabled)."""

    def __init__(self, target: TextIO, *, keep_metrics: bool) -> None:
        self._target = target
        self._keep_metrics = keep_metrics
        self._pending = ""
        self._lock = threading.Lock()  # handlers print from poller threads

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            while "\n" in self._pending:
                line, self._pending = self._pending.split("\n", 1)
                if self._keep_metrics or not line.startswith('{"_aws"'):
                    self._target.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending and (self._keep_metrics or not self._pending.startswith('{"_aws"')):
                self._target.write(self._pending)
            self._pending = ""
        self._target.flush()


if __name__ == "__main__":
    sys.exit(main())
