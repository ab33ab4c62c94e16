"""The agents' commands, registered by the areas that own them (the desk's triage, orders, loyalty, greetings)
and looked up by name when an agent types one; a command is never dispatched by a hand-written chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    run: Callable  # run(args, ticket, agent, agent_name) -> the line to answer with, or None
    in_ticket: bool  # True: only inside a ticket (its topic, or a reply to one of its messages)


_registry: dict[str, Command] = {}


def command(*names: str, in_ticket: bool = False):
    """Register the decorated function as the agents' command(s) `names`."""

    def register(fn: Callable) -> Callable:
        for name in names:
            if name in _registry and _registry[name].run is not fn:
                raise ValueError(f"the agents' command /{name} is registered twice")
            _registry[name] = Command(name, fn, in_ticket)
        return fn

    return register


def find(name: str) -> Command | None:
    return _registry.get(name)


def names() -> list[str]:
    return sorted(_registry)


def parse(text: str) -> tuple[str, str]:
    """'/close@shop_bot now' → ('close', 'now')."""
    head, _, rest = text.strip().partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = f"{more} {rest}".strip()
    return head[1:].split("@", 1)[0].lower(), rest.strip()
