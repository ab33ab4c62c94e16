"""`flask --app webhook faq test QUESTION`: what the FAQ matcher makes of a question, for the shop. The three best
answers with their scores, the bands, and the verdict: the answer given, or why not and what to add to the file
(templates/owners/faq_test/, in the shop's agent_language)."""

from __future__ import annotations

import config
from handlers.core import texts
from handlers.features import faq, shopinfo

NAME = "owners/faq_test/"


def _say(name: str, **values) -> str:
    return texts.for_agents(NAME + name, **values)


def _share(value: float) -> str:
    return f"{value:.0%}"


def describe(question: str, known: faq.Faq) -> str:
    """The report printed for QUESTION against the shop's answers."""
    conf = config.selfservice()
    found = faq.match(question, known, score_vetoed=True)
    lines = [_say("question", question=question, tokens=" ".join(faq.tokens(question)) or "—")]
    width = max((len(c.key) for c in found.candidates), default=0)
    lines += [
        _say(
            "candidate",
            rank=str(rank),
            key=c.key.ljust(width),
            score=f"{c.score:.2f}",
            coverage=_share(c.coverage),
            explained=_share(c.explained),
            chars=f"{c.chars:.2f}",
        )
        for rank, c in enumerate(found.candidates, 1)
    ] or [_say("none")]
    lines.append(
        _say(
            "bands",
            threshold=f"{conf.threshold:.2f}",
            margin=f"{conf.margin:.2f}",
            coverage=_share(conf.min_coverage),
            explained=_share(conf.min_explained),
            unsure=f"{conf.unsure:.2f}",
            rival=f"{conf.rival:.2f}",
        )
    )
    entry = known.get(found.key) if found.key else None
    if entry is not None:
        lang = faq.guess_language(question)
        return "\n".join([*lines, _say("answer", key=found.key, lang=lang), shopinfo.fill(entry.answer(lang), lang)])
    why = _say(
        f"why_{found.reason}",
        key=found.best or "",
        score=f"{found.score:.2f}",
        second=found.second or "",
        second_score=f"{found.second_score:.2f}",
        threshold=f"{conf.threshold:.2f}",
        unsure=f"{conf.unsure:.2f}",
        margin=f"{conf.margin:.2f}",
        rival=f"{conf.rival:.2f}",
        rival_words=" ".join(found.rival_words),
        coverage=_share(found.coverage),
        min_coverage=_share(conf.min_coverage),
        explained=_share(found.explained),
        min_explained=_share(conf.min_explained),
    )
    verdict = _say("unsure", why=why, key=found.best) if found.band == "unsure" else _say("no_answer", why=why)
    return "\n".join([*lines, verdict])
