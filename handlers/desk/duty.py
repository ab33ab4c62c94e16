"""The agents' duty commands, registered by name (handlers.core.commands): /on and /off (on duty in the group
where they are typed, or off), and /team (who is on duty here, how many open tickets each has, how many wait).
What being on duty means for new tickets is handlers.features.duty."""

from __future__ import annotations

from handlers.core import commands, teams, texts
from handlers.features import duty

command = commands.command


def _t(name, /, **values) -> str:
    return texts.for_agents(f"agents/{name}", **values)


@command("on")
def on(name, args, ticket, agent, agent_name):
    if args or agent is None:
        return _t("usage_on")
    here = teams.here()
    duty.set_on_duty(agent, True, here)
    answer = _t(
        "duty_on",
        agent=agent_name,
        team=teams.display(here),
        open=duty.open_counts([agent]).get(agent.telegram_user_id, 0),
    )
    duty.drain(here)  # the tickets waiting here may go to them now
    return answer


@command("off")
def off(name, args, ticket, agent, agent_name):
    if args or agent is None:
        return _t("usage_off")
    duty.set_on_duty(agent, False)
    return _t("duty_off", agent=agent_name, open=duty.open_counts([agent]).get(agent.telegram_user_id, 0))


@command("team")
def team_(name, args, ticket, agent, agent_name):
    if args:
        return _t("usage_team")
    here = teams.here()
    present = duty.on_duty(here)
    counts = duty.open_counts(present)
    waiting = len(duty.waiting(here))
    if not present:
        return _t("team_none", team=teams.display(here), waiting=waiting)
    lines = [
        _t("team_line", agent=a.first_name or f"@{a.username}", open=counts.get(a.telegram_user_id, 0)) for a in present
    ]
    head = _t("team_head", team=teams.display(here), count=len(present), waiting=waiting)
    return head + "\n" + "\n".join(lines)
