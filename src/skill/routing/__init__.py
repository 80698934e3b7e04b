"""The entrypoint's directive router, on ask-sdk-runtime: one request handler per directive,
found by ``(namespace, name)``, one exception handler that turns typed errors into
``ErrorResponse``, and interceptors for parsing and logging. No AWS imports here."""

from skill.routing._router import DirectiveInput, EntrypointServices, build_router

__all__ = ["DirectiveInput", "EntrypointServices", "build_router"]
