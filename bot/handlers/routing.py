"""A small router from (event, action) to a handler and the model its payload parses into.

Like gidgethub's `Router`, one per handler module and composed in `bot.handlers`; unlike
it, a handler receives a typed event (bot/events.py) and says whether it queued work, so
the webhook answers 202 or 200 from what happened, not from side effects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pystd.bot.events import WebhookEvent

if TYPE_CHECKING:
    from pystd.bot.services import Services

E = TypeVar("E", bound=WebhookEvent)
Handler = Callable[[Any, "Services"], Awaitable[bool]]


@dataclass(frozen=True)
class Route:
    model: type[WebhookEvent]
    handler: Handler


class Router:
    """Handlers by (event name, action); at most one per pair."""

    def __init__(self, *others: Router) -> None:
        self._routes: dict[tuple[str, str], Route] = {}
        for other in others:
            for key, route in other._routes.items():
                self._add(key, route)

    def register(self, model: type[E], *actions: str
                 ) -> Callable[[Callable[[E, Services], Awaitable[bool]]],
                               Callable[[E, Services], Awaitable[bool]]]:
        """Route `model.NAME` deliveries with any of `actions` to the decorated handler."""
        def decorate(handler: Callable[[E, Services], Awaitable[bool]]
                     ) -> Callable[[E, Services], Awaitable[bool]]:
            for action in actions:
                self._add((model.NAME, action), Route(model, handler))
            return handler

        return decorate

    def events(self) -> frozenset[str]:
        """The names of the events some handler takes (what the App subscribes to)."""
        return frozenset(event for event, _action in self._routes)

    def lookup(self, event: str, action: str | None) -> Route | None:
        """The route of a delivery, or None when pystd has nothing to do with it."""
        return self._routes.get((event, action or ""))

    def _add(self, key: tuple[str, str], route: Route) -> None:
        if key in self._routes:
            raise ValueError(f"two handlers for {key}")
        self._routes[key] = route
