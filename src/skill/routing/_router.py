"""Wiring of ask-sdk-runtime for Smart Home directives.

ask-sdk-runtime's generic mapper asks every handler ``can_handle`` in turn; a Smart Home
directive is identified by ``(namespace, name)``, so ``_RegistryMapper`` looks the handler up in
a dict instead (one lookup, no chain of ifs) and the rest of the runtime is used as it is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ask_sdk_runtime.dispatch import GenericRequestDispatcher
from ask_sdk_runtime.dispatch_components.exception_components import (
    AbstractExceptionHandler,
    GenericExceptionMapper,
)
from ask_sdk_runtime.dispatch_components.request_components import (
    AbstractRequestHandler,
    AbstractRequestInterceptor,
    GenericHandlerAdapter,
    GenericRequestHandlerChain,
    GenericRequestMapper,
)
from ask_sdk_runtime.skill import RuntimeConfiguration

from skill.alexa import events
from skill.alexa.directives import Directive, Envelope, parse_envelope, spec_for
from skill.credentials import Credentials
from skill.errors import InternalError, SkillError
from skill.plugins import AdapterRegistry
from skill.ports import DirectiveQueue, Identity, StateStore, TokenExchanger, TokenStore

logger = logging.getLogger(__name__)


@dataclass
class EntrypointServices:
    """What the entrypoint's handlers use; Lambda wiring gives AWS ones, tests give fakes."""

    adapters: AdapterRegistry
    tokens: TokenStore
    lwa: TokenExchanger
    queue: DirectiveQueue
    #: Who the bearer token Alexa sends identifies (``skill.identity``).
    identity: Identity
    #: The users' vendor credentials (the vault).
    credentials: Credentials
    #: ``vendor`` linking mode: the one adapter whose own token Alexa sends; the entrypoint
    #: keeps it in the vault for the functions that run later. None in ``cognito`` mode.
    linking_vendor: str | None = None
    region: str = "NA"
    deadline_seconds: float = 8.0
    clock: Callable[[], float] = time.time
    #: Per adapter name, the URL its vendor must push to (``skill.discovery.WebhookUrls``);
    #: None when no webhook API is deployed.
    webhook_url_for: Callable[[str], str | None] | None = None
    #: Where Discover records who owns each bulb (the state table); None: not recorded.
    owners: StateStore | None = None


@dataclass
class DirectiveInput:
    """The ask-sdk "handler input": the raw event, and the directive once parsed."""

    event: Any
    services: EntrypointServices
    received_at: float
    envelope: Envelope | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def directive(self) -> Directive:
        assert self.envelope is not None, "ParseInterceptor runs first"
        return self.envelope.directive


#: A directive's handler: the ask-sdk request handler over ``DirectiveInput``, answering JSON.
DirectiveHandler = AbstractRequestHandler[DirectiveInput, dict[str, Any]]


class _ParseInterceptor(AbstractRequestInterceptor[DirectiveInput]):
    """Parse the envelope before routing: a malformed one is INVALID_DIRECTIVE."""

    def process(self, handler_input: DirectiveInput) -> None:
        handler_input.envelope = parse_envelope(handler_input.event)
        header = handler_input.envelope.directive.header
        logger.info("directive %s.%s", header.namespace, header.name)


class _RegistryMapper(GenericRequestMapper):
    # A GenericRequestMapper because RuntimeConfiguration is typed to take those; its chain list
    # is left empty, the dict below answers instead.
    def __init__(self, handlers: Mapping[tuple[str, str], DirectiveHandler]) -> None:
        super().__init__(request_handler_chains=[])
        self._chains = {key: GenericRequestHandlerChain(h) for key, h in handlers.items()}

    def get_request_handler_chain(self, handler_input: Any) -> GenericRequestHandlerChain:
        # ``Any``: the SDK declares the input as a free type variable; it is a DirectiveInput
        directive: Directive = handler_input.directive
        spec_for(directive)  # INVALID_DIRECTIVE for what the skill does not know
        return self._chains[directive.key]


class _SkillErrorHandler(AbstractExceptionHandler[DirectiveInput, dict[str, Any]]):
    """Every error ends here as an ErrorResponse; unexpected ones as INTERNAL_ERROR."""

    def can_handle(self, handler_input: DirectiveInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: DirectiveInput, exception: Exception) -> dict[str, Any]:
        if isinstance(exception, SkillError):
            error = exception
            logger.info("answering %s: %s", error.alexa_type, error.message)
        else:
            logger.error("unexpected error answering a directive", exc_info=exception)
            error = InternalError("the skill failed to handle the directive")
        correlation_token, endpoint_id = _reply_address(handler_input)
        return events.error_response(error, correlation_token, endpoint_id)


def _reply_address(handler_input: DirectiveInput) -> tuple[str | None, str | None]:
    """Correlation token and endpoint id to answer with, even from a directive that did not
    parse (only values the schema accepts are echoed)."""
    if handler_input.envelope is not None:
        directive = handler_input.envelope.directive
        endpoint_id = directive.endpoint.endpoint_id if directive.endpoint else None
        return directive.header.correlation_token, endpoint_id
    try:
        raw = handler_input.event["directive"]
        token = raw["header"].get("correlationToken")
    except (TypeError, KeyError, AttributeError):
        return None, None
    return (token if isinstance(token, str) and 0 < len(token) <= 4096 else None), None


class Router:
    """Answers one directive event with one Alexa message; never raises."""

    def __init__(self, dispatcher: GenericRequestDispatcher, services: EntrypointServices):
        self._dispatcher = dispatcher
        self.services = services

    def answer(self, event: Any) -> dict[str, Any]:
        handler_input = DirectiveInput(event, self.services, self.services.clock())
        try:
            answer: dict[str, Any] | None = self._dispatcher.dispatch(handler_input)
        except Exception:  # the exception mapper answers everything; this is the last guard
            logger.exception("dispatch failed outside the exception handler")
            return events.error_response(InternalError("internal error"))
        if answer is None:  # every handler answers; were one not to, Alexa still gets an answer
            logger.error("no handler answered the directive")
            return events.error_response(InternalError("internal error"))
        return answer


def build_router(
    services: EntrypointServices,
    handlers: Mapping[tuple[str, str], DirectiveHandler] | None = None,
) -> Router:
    """The entrypoint's router over ``handlers`` (default: every supported directive)."""
    if handlers is None:
        from skill.routing.handlers import HANDLERS

        handlers = HANDLERS
    configuration = RuntimeConfiguration(
        request_mappers=[_RegistryMapper(handlers)],
        handler_adapters=[GenericHandlerAdapter()],
        request_interceptors=[_ParseInterceptor()],
        exception_mapper=GenericExceptionMapper([_SkillErrorHandler()]),
    )
    return Router(GenericRequestDispatcher(configuration), services)
