"""The customer router: what the bot does with a customer's message, decided here and only here.

`RULES` is the whole conversation as one ordered table. Each rule names the conversation state it needs
(`ANY`, the owner's broadcast draft, a pending rating question, a self-service dialog, an open ticket, the
reply window after a delay notice, or `NONE` of these), what it matches, and what it does; the first rule
whose state holds and which matches the message takes it. A feature adds a rule here, never intercepts
messages on its own. The last rule takes everything: when unsure, a message is a new matter for the agents.
docs/architecture.md has the same table in words; tests/test_router_matrix.py asserts it state × kind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import outbox
from bots.base import Inbound
from db.models import Contact, Customer, Order, Ticket
from handlers.core import commands, customers, texts, tickets
from handlers.features import broadcasts, csat, dashboard, greetings, loyalty, orders, selfservice

log = logging.getLogger(__name__)

# the conversation states a rule can need
ANY = "any"
OWNER_DRAFT = "owner's broadcast draft"
RATING = "pending rating question"
DIALOG = "self-service dialog"
OPEN_TICKET = "open ticket"
NOTICE = "reply window after a notice"
NONE = "none of these"


class Turn:
    """One customer message and what the router needs to know about its sender, looked up when first asked."""

    def __init__(self, inbound: Inbound, customer: Customer, contact: Contact):
        self.inbound, self.customer, self.contact = inbound, customer, contact
        self.text = (inbound.text or "").strip()
        self.command = commands.parse(self.text)[0] if inbound.kind == "command" else None
        # words typed as text: a plain message (no media), or a command we do not know (/menu, /points …)
        self.words = inbound.kind in ("message", "command") and not inbound.media and bool(self.text)

    @cached_property
    def lang(self) -> str:
        return customers.language_of(self.customer)

    @cached_property
    def ticket(self) -> Ticket | None:
        return tickets.open_ticket_of(self.customer)

    @cached_property
    def rating_ticket(self) -> Ticket | None:
        """The closed ticket whose rating question is still waiting (none while a ticket is open)."""
        return csat.question_waiting(self.customer)

    @cached_property
    def asked(self) -> str | None:
        """What the self-service dialog last asked, while its answer counts."""
        return selfservice.asked(self.customer)

    @cached_property
    def noticed(self) -> Order | None:
        return orders.recent_notice(self.customer)

    @cached_property
    def question(self) -> orders.Question:
        return orders.read_question(self.text)

    @cached_property
    def faq_match(self):
        """The shop's FAQ's best answer for the words (matched once: asked by two rules)."""
        return selfservice.match(self.text)

    @cached_property
    def own_orders(self) -> list[Order]:
        return orders.own_orders(self.customer, self.question.refs)

    def state(self, name: str) -> bool:
        if name == ANY:
            return True
        if name == RATING:
            return self.ticket is None and self.rating_ticket is not None
        if name == DIALOG:  # what the bot asked in the dialog, unless the rating question came after it
            return self.asked is not None and (
                self.rating_ticket is None or selfservice.asked_after(self.customer, self.rating_ticket.csat_asked_at)
            )
        if name == OPEN_TICKET:
            return self.ticket is not None
        if name == NOTICE:
            return self.ticket is None and self.noticed is not None
        if name == NONE:
            return self.ticket is None and self.noticed is None
        raise ValueError(name)


@dataclass(frozen=True)
class Rule:
    name: str
    state: str  # the conversation state it needs
    matches: str  # what it matches, in words (docs/architecture.md)
    when: Callable[[Turn], bool]
    then: Callable[[Turn], None]


# ---- what the rules do -------------------------------------------------------------------------------
def _shop() -> str:
    return texts.shop_name()


def _welcome(turn: Turn) -> None:
    if selfservice.on_start(turn.customer, turn.contact):
        return
    outbox.to_contact(
        turn.contact,
        texts.render(turn.lang, "welcome", name=customers.greeting_name(turn.customer), shop=_shop()),
        purpose="welcome",
    )


def _help(turn: Turn) -> None:
    outbox.to_contact(turn.contact, texts.render(turn.lang, "help", shop=_shop()), purpose="help")


def _opt_word(turn: Turn) -> str | None:
    if turn.inbound.media or turn.inbound.kind not in ("message", "command"):
        return None
    return customers.opt_out_word(turn.inbound.channel, turn.text, turn.customer.marketing_opt_out)


def _opt(turn: Turn) -> None:
    choice = _opt_word(turn)
    customer, contact = turn.customer, turn.contact
    customer.marketing_opt_out = choice == "out"
    customer.save()
    if not customers.carrier_answers(turn.inbound.channel, turn.text):  # on SMS it answers STOP/START itself
        outbox.to_contact(
            contact, texts.render(turn.lang, "opted_out" if choice == "out" else "opted_in"), purpose="optout"
        )
    if turn.ticket:
        outbox.to_group(
            texts.for_agents("agents/opted_out" if choice == "out" else "agents/opted_in", word=turn.text),
            purpose="agents",
            ticket=turn.ticket,
        )
    log.info("marketing opt-%s channel=%s customer=%s", choice, turn.inbound.channel, customer.id)


def _answered(turn: Turn, answer: str, order_ref: str | None = None, note: str | None = None) -> None:
    """The bot answered what it knows; with a ticket open the message also joins it and the agents see
    the answer in its thread."""
    if turn.ticket is None:
        return
    ticket = tickets.on_customer_message(turn.inbound, turn.customer, turn.contact, order_ref=order_ref)
    if ticket is not None:
        tickets.bot_answered(ticket, turn.contact, answer, note)


def _points(turn: Turn) -> None:
    answer = loyalty.answer_points(turn.customer, turn.contact, turn.inbound.channel)
    _answered(turn, answer)


def _order_question(turn: Turn) -> bool:
    """A clear question about the customer's own order(s): named, or "where is my order" with open orders."""
    if not turn.words:
        return False
    q = turn.question
    if q.refs:
        clear = q.bare or (q.asks and (q.about_orders or bool(turn.own_orders)))
        return bool(turn.own_orders) and clear and not (q.bare and turn.ticket is not None)
    return q.asks and q.about_orders and bool(orders.open_orders(turn.customer))


def _answer_orders(turn: Turn) -> None:
    mine = turn.own_orders or orders.open_orders(turn.customer)
    answer = orders.answer(turn.contact, turn.lang, mine, turn.inbound)
    note = texts.for_agents("agents/orders/bot_answered", refs=", ".join(o.ref for o in mine), answer=answer)
    _answered(turn, answer, order_ref=mine[0].ref, note=note)


def _menu_word(turn: Turn) -> bool:
    return turn.words and selfservice.enabled() and selfservice.is_menu_word(turn.text)


def _menu(turn: Turn) -> None:
    selfservice.send_menu(turn.customer, turn.contact, turn.lang, heard=turn.text)


def _rating(turn: Turn) -> None:
    csat.record_answer(turn.rating_ticket, turn.customer, turn.contact, turn.text)


def _dialog_reply(turn: Turn) -> bool:
    if turn.asked == "order" and turn.question.refs:
        return False  # asked to track an order: a number that is not theirs gets "not found" below
    return turn.words and selfservice.is_dialog_reply(turn.customer, turn.asked, turn.text)


def _take_dialog_reply(turn: Turn) -> None:
    selfservice.take_dialog_reply(turn.inbound, turn.customer, turn.contact, turn.lang, turn.ticket, turn.asked)


def _join_ticket(turn: Turn) -> None:
    own = turn.own_orders if turn.words else []
    order_ref = own[0].ref if own and not turn.ticket.order_ref else None
    tickets.on_customer_message(turn.inbound, turn.customer, turn.contact, order_ref=order_ref)


def _notice_reply(turn: Turn) -> None:
    tickets.on_customer_message(turn.inbound, turn.customer, turn.contact, order_ref=turn.noticed.ref)
    log.info(
        "answer to a delay notice order=%s channel=%s customer=%s",
        turn.noticed.ref,
        turn.inbound.channel,
        turn.customer.id,
    )


def _unknown_order(turn: Turn) -> bool:
    q = turn.question
    return turn.words and bool(q.refs) and not turn.own_orders and (q.bare or q.asks)


def _not_found(turn: Turn) -> None:
    outbox.to_contact(
        turn.contact, texts.render(turn.lang, "orders/not_found", ref=turn.question.refs[0]), purpose="order_status"
    )
    log.info("order question without a matching order channel=%s customer=%s", turn.inbound.channel, turn.customer.id)


def _order_mention(turn: Turn) -> None:
    tickets.on_customer_message(turn.inbound, turn.customer, turn.contact, order_ref=turn.own_orders[0].ref)


def _faq_answer(turn: Turn) -> bool:
    return turn.words and selfservice.enabled() and selfservice.has_answer(turn.customer, turn.faq_match)


def _new_matter(turn: Turn) -> None:
    if turn.words and selfservice.enabled():
        selfservice.log_unanswered(turn.inbound, turn.customer, turn.lang, turn.text, turn.faq_match)
    tickets.on_customer_message(turn.inbound, turn.customer, turn.contact)


def _plain(check: Callable[[str], bool]) -> Callable[[Turn], bool]:
    return lambda turn: turn.words and check(turn.text)


# ---- the table ----------------------------------------------------------------------------------------
RULES: list[Rule] = [
    Rule("start", ANY, "/start", lambda t: t.command == "start", _welcome),
    Rule("help", ANY, "/help", lambda t: t.command == "help", _help),
    Rule(
        "opt-out",
        ANY,
        "the whole message is STOP (or START after STOP), per channel's words",
        lambda t: _opt_word(t) is not None,
        _opt,
    ),
    Rule(
        "occasion",
        ANY,
        "a birthday or anniversary with a date (/birthday 14-08, سالگرہ ۱۴-۰۸)",
        _plain(greetings.tells_occasion),
        lambda t: greetings.save_occasion(t.inbound, t.customer, t.contact),
    ),
    Rule(
        "points",
        ANY,
        "a short question about their points (/points, پوائنٹس, points kitne hain)",
        _plain(lambda text: loyalty.asks_for_points(text, strict=False)),
        _points,
    ),
    Rule(
        "order question",
        ANY,
        "a clear question about their own order (where is my order 5531, or the bare number)",
        _order_question,
        _answer_orders,
    ),
    Rule("menu", ANY, "menu, مینو, /menu", _menu_word, _menu),
    Rule(
        "dialog reply",
        DIALOG,
        "the answer to what the bot just asked (a menu number, yes/no, the complaint asked for)",
        _dialog_reply,
        _take_dialog_reply,
    ),
    Rule(
        "rating",
        RATING,
        "a rating (1–5, ⭐, with or without words) or a short comment on the help, naming no order",
        lambda t: t.words and not t.question.refs and csat.is_rating_answer(t.text),
        _rating,
    ),
    Rule("open ticket", OPEN_TICKET, "anything else", lambda t: True, _join_ticket),
    Rule("notice reply", NOTICE, "anything else", lambda t: True, _notice_reply),
    Rule("unknown order", NONE, "a question naming an order that is not theirs", _unknown_order, _not_found),
    Rule(
        "order mention",
        NONE,
        "a message naming one of their orders",
        lambda t: t.words and bool(t.own_orders),
        _order_mention,
    ),
    Rule(
        "person",
        NONE,
        "asks for a person (agent, insaan, کسی سے بات)",
        lambda t: t.words and selfservice.enabled() and selfservice.wants_person(t.text),
        lambda t: selfservice.person(t.inbound, t.customer, t.contact),
    ),
    Rule(
        "greeting",
        NONE,
        "a greeting alone (hi, salam)",
        lambda t: t.words and selfservice.enabled() and selfservice.is_greeting(t.text),
        lambda t: selfservice.greet(t.customer, t.contact, t.lang, t.text),
    ),
    Rule(
        "common question",
        NONE,
        "a clear match in the shop's FAQ that is not a complaint",
        _faq_answer,
        lambda t: selfservice.answer_question(t.inbound, t.customer, t.contact, t.lang, t.text, t.faq_match),
    ),
    Rule(
        "new matter",
        ANY,
        "anything else: a complaint, media, a long message — a new ticket",
        lambda t: True,
        _new_matter,
    ),
]


def route(inbound: Inbound) -> str:
    """A customer's private message (or tap): the name of the rule that took it."""
    if broadcasts.takes_private(inbound):  # the owner's /broadcast flow (and non-owners refused)
        broadcasts.on_private(inbound)
        return "owner's broadcast"
    if dashboard.takes_private(inbound):  # an owner's login link (and everyone else refused)
        dashboard.on_private(inbound)
        return "owner's dashboard"
    customer, contact = customers.identify(inbound)
    if inbound.kind == "callback":  # a tap on one of our buttons (menu, questions, "did this help?")
        selfservice.on_button(inbound, customer, contact)
        return "button"
    turn = Turn(inbound, customer, contact)
    for rule in RULES:
        if turn.state(rule.state) and rule.when(turn):
            rule.then(turn)
            log.debug("rule %r took the message channel=%s customer=%s", rule.name, inbound.channel, customer.id)
            return rule.name
    raise AssertionError("the last rule takes everything")


def table() -> list[tuple[str, str, str]]:
    """The table in words: (owner's broadcast, /dashboard and button taps first, then) each rule's name, state
    and match."""
    head = [
        (
            "owner's broadcast",
            OWNER_DRAFT,
            "an owner's /broadcast, /broadcasts, /broadcast_cancel, a tap on "
            "their buttons, or the answer to the draft's question (Telegram private chat)",
        ),
        (
            "owner's dashboard",
            ANY,
            "/dashboard (Telegram private chat): an owner gets a login link, others are told no",
        ),
        ("button", ANY, "a tap on one of the bot's buttons"),
    ]
    return head + [(r.name, r.state, r.matches) for r in RULES]
