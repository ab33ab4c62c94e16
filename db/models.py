"""The tables. Every Telegram id is a 64-bit integer; times are UTC."""

from __future__ import annotations

import datetime as dt
import json

from peewee import (
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from db.connection import database


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
        only_save_dirty = True  # save() writes only what changed: no lost updates between processes


class SchemaVersion(BaseModel):
    version = IntegerField()
    applied_at = DateTimeField(default=utcnow)


class State(BaseModel):
    """Small durable facts the bot learns at run time (the group's effective id, whether it has topics)."""

    key = CharField(primary_key=True, max_length=64)
    value = TextField()

    @classmethod
    def read(cls, key: str, default: str | None = None) -> str | None:
        row = cls.get_or_none(cls.key == key)
        return row.value if row else default

    @classmethod
    def put(cls, key: str, value: str) -> None:
        cls.insert(key=key, value=value).on_conflict(conflict_target=[cls.key], update={cls.value: value}).execute()


class InboundEvent(BaseModel):
    """Every accepted webhook event, stored before we answer 200. (source, external_id) drops redeliveries."""

    source = CharField(max_length=16)  # telegram / twilio
    external_id = CharField(max_length=64)
    received_at = DateTimeField(default=utcnow)
    status = CharField(max_length=16, default="done")  # done / error
    error = TextField(null=True)
    payload = TextField(null=True)  # kept only for events that failed, to replay them

    class Meta:
        indexes = ((("source", "external_id"), True),)


class Customer(BaseModel):
    name = CharField(max_length=200, default="")
    language = CharField(max_length=8, null=True)
    phone = CharField(max_length=32, null=True, unique=True)  # E.164
    telegram_user_id = BigIntegerField(null=True, unique=True)
    username = CharField(max_length=64, null=True)
    marketing_opt_out = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    # schema version 4: occasions, loyalty, self-service
    birthday = CharField(max_length=5, null=True, index=True)  # "MM-DD": the greetings job finds a day by index
    birth_year = IntegerField(null=True)
    anniversary = CharField(max_length=5, null=True, index=True)  # "MM-DD"
    points = IntegerField(default=0)  # loyalty points
    tier = CharField(max_length=32, null=True, index=True)  # loyalty tier name, kept in step with points
    dialog = JSONField(null=True)  # self-service state (menu, FAQ feedback …)


class Contact(BaseModel):
    """One way to reach a customer: a channel and an address on it."""

    customer = ForeignKeyField(Customer, backref="contacts", on_delete="CASCADE")
    channel = CharField(max_length=16)  # telegram / whatsapp / sms
    address = CharField(max_length=64)  # Telegram chat id, whatsapp:+…, +…
    last_inbound_at = DateTimeField(null=True)
    unreachable = CharField(max_length=32, null=True)  # blocked / unsubscribed / invalid …
    unreachable_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("channel", "address"), True),)


class Ticket(BaseModel):
    customer = ForeignKeyField(Customer, backref="tickets", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, on_delete="CASCADE")  # where replies go: the channel last used
    status = CharField(max_length=16, default="open", index=True)
    subject = CharField(max_length=200, default="")
    priority = CharField(max_length=16, default="normal")
    assignee = CharField(max_length=100, null=True)
    created_at = DateTimeField(default=utcnow)
    closed_at = DateTimeField(null=True)
    closed_by = CharField(max_length=100, null=True)
    first_response_at = DateTimeField(null=True)
    last_customer_at = DateTimeField(default=utcnow)
    group_chat_id = BigIntegerField(null=True)
    thread_id = BigIntegerField(null=True, index=True)  # forum topic in the agents' group
    root_message_id = BigIntegerField(null=True)  # the ticket's card: its first message in the group
    # schema version 2: triage, SLA, satisfaction
    assignee_id = BigIntegerField(null=True)
    tags = JSONField(default=list)
    urgent = BooleanField(default=False)  # urgent wording seen
    close_reason = TextField(null=True)
    reopened_at = DateTimeField(null=True)
    opened_while_closed = BooleanField(default=False)  # arrived outside business hours
    first_response_minutes = DoubleField(null=True)  # business minutes
    resolution_minutes = DoubleField(null=True)  # business minutes
    sla_warned_at = DateTimeField(null=True)
    sla_breached_at = DateTimeField(null=True)
    csat_asked_at = DateTimeField(null=True)
    rating = IntegerField(null=True)
    rating_comment = TextField(null=True)
    # schema version 4
    order_ref = CharField(max_length=64, null=True)  # the order this ticket is about (a delay notice answered)
    # schema version 8
    team = CharField(max_length=32, null=True)  # the [[teams]] entry whose group has it; None: the main group

    @property
    def number(self) -> int:
        return 1000 + self.id


class Agent(BaseModel):
    """Someone who wrote in the agents' group (schema version 2): /assign @username finds them here."""

    telegram_user_id = BigIntegerField(unique=True)
    first_name = CharField(max_length=100, default="")
    username = CharField(max_length=64, null=True, index=True)
    last_seen_at = DateTimeField(default=utcnow)
    # schema version 8: on duty (in the group where they said /on) and when they last got a ticket
    on_duty = BooleanField(default=False)
    duty_team = CharField(max_length=32, null=True)  # the team whose group it is; None: the main group
    on_duty_since = DateTimeField(null=True)
    last_assigned_at = DateTimeField(null=True)


class Message(BaseModel):
    """The conversation of a ticket: customer messages, agent replies, internal notes."""

    ticket = ForeignKeyField(Ticket, backref="messages", on_delete="CASCADE")
    direction = CharField(max_length=8)  # in / out / note
    channel = CharField(max_length=16)
    text = TextField(default="")
    media = JSONField(null=True)
    author = CharField(max_length=100, null=True)
    created_at = DateTimeField(default=utcnow)


class GroupMessage(BaseModel):
    """Which ticket a bot message in the agents' group belongs to: replies find their ticket here."""

    chat_id = BigIntegerField()
    message_id = BigIntegerField()
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE")

    class Meta:
        indexes = ((("chat_id", "message_id"), True),)


class Outbox(BaseModel):
    """A message to send. Written in the same transaction as the change that caused it."""

    channel = CharField(max_length=16)  # telegram / whatsapp / sms
    chat_id = CharField(max_length=64)  # address, or "group" for the agents' group
    destination = CharField(max_length=90, index=True)  # channel:chat_id — one ordered lane
    payload = JSONField()
    purpose = CharField(max_length=32)  # ack / relay / reply / notice / agents …
    ticket = ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
    priority = IntegerField(default=5)  # lower first: replies to customers 0, group 1, broadcasts 9
    merge_key = CharField(max_length=64, null=True)
    idempotency_key = CharField(max_length=128, null=True, unique=True)
    status = CharField(max_length=16, default="pending")  # pending / sent / gone / failed / skipped
    attempts = IntegerField(default=0)
    parts_sent = IntegerField(default=0)
    created_at = DoubleField()
    next_attempt_at = DoubleField()
    sent_at = DoubleField(null=True)
    message_ids = JSONField(null=True)
    reason = CharField(max_length=64, null=True)
    detail = TextField(null=True)
    delivery = CharField(max_length=32, null=True)  # Twilio callbacks: sent / delivered / read / failed …

    class Meta:
        # the sender's "what is due next" walks this index in order and stops at its LIMIT (no sort of the
        # whole backlog); counts by status use its prefix
        indexes = ((("status", "priority", "id"), False),)


class SentMessage(BaseModel):
    """Platform message id → outbox row, for delivery status callbacks."""

    channel = CharField(max_length=16)
    platform_id = CharField(max_length=64)
    outbox = ForeignKeyField(Outbox, on_delete="CASCADE")

    class Meta:
        indexes = ((("channel", "platform_id"), True),)


ALL = [SchemaVersion, State, InboundEvent, Customer, Contact, Ticket, Message, GroupMessage, Outbox, SentMessage, Agent]


class Broadcast(BaseModel):
    """An owner's message to a segment of customers (schema version 3). A draft is also the owner's chat
    flow state (step); recipients are materialised once, when it starts."""

    kind = CharField(max_length=16, default="offer")  # offer (opt-outs skipped) / notice (everyone)
    segment = CharField(max_length=200, default="all")
    text = TextField(default="")
    template = CharField(max_length=64, null=True)  # WhatsApp Content SID outside the 24-hour window
    status = CharField(max_length=16, default="draft", index=True)  # draft / scheduled / sending / done / cancelled
    step = CharField(max_length=16, null=True)  # owner chat flow: audience / text / confirm
    created_by = BigIntegerField(null=True)  # the owner's Telegram id; None: the command line
    created_at = DateTimeField(default=utcnow)
    scheduled_at = DateTimeField(null=True)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    total = IntegerField(null=True)  # recipients materialised (None: not yet)
    counts = JSONField(null=True)  # the last figures reported
    progress_outbox = BigIntegerField(null=True)  # outbox row of the owner's progress message


class BroadcastRecipient(BaseModel):
    """One customer of a broadcast and the contact it goes to; its outbox row once enqueued."""

    broadcast = ForeignKeyField(Broadcast, backref="recipients", on_delete="CASCADE")
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    language = CharField(max_length=8)
    state = CharField(max_length=16, default="pending")  # pending / queued / opted_out / blocked / skipped / cancelled
    reason = CharField(max_length=32, null=True)
    outbox = ForeignKeyField(Outbox, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("broadcast", "customer"), True), (("broadcast", "state"), False))


ALL += [Broadcast, BroadcastRecipient]


class CustomerTag(BaseModel):
    """A shop's label on a customer (from order imports): segments select by it (schema version 4)."""

    customer = ForeignKeyField(Customer, backref="tag_rows", on_delete="CASCADE")
    tag = CharField(max_length=64)

    class Meta:
        indexes = ((("customer", "tag"), True), (("tag",), False))


class Order(BaseModel):
    """A shop's order, imported (CSV) or pushed (API) (schema version 4)."""

    ref = CharField(max_length=64, unique=True)
    customer = ForeignKeyField(Customer, backref="orders", on_delete="CASCADE")
    items = TextField(default="")
    amount = DecimalField(max_digits=14, decimal_places=2, null=True)
    status = CharField(max_length=32, default="pending")
    is_open = BooleanField(default=True)  # neither delivered nor cancelled: the overdue job looks here
    promised_date = DateField(null=True)
    delayed_until = DateField(null=True)  # the new expected date after a delay
    delay_reason = TextField(null=True)
    notified_for = DateField(null=True)  # the date the customer was last told about (never twice)
    notified_at = DateTimeField(null=True)  # when a delay notice last reached the outbox (their answer opens a ticket)
    points_awarded = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "shop_order"  # "order" is a reserved word in SQL
        indexes = ((("is_open", "promised_date"), False), (("customer", "created_at"), False))


class Coupon(BaseModel):
    """A personal discount code (schema version 4)."""

    code = CharField(max_length=32, unique=True)
    customer = ForeignKeyField(Customer, backref="coupons", null=True, on_delete="CASCADE")
    kind = CharField(max_length=8, default="percent")  # percent / amount
    value = DecimalField(max_digits=12, decimal_places=2)
    expires_on = DateField(null=True)
    issued_by = CharField(max_length=100, default="")
    reason = TextField(default="")
    ticket = ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    redeemed_at = DateTimeField(null=True)  # set once, by one conditional UPDATE (handlers/features/coupons.py)
    # schema step "coupons redeemed, points ledger"
    redeemed_by = CharField(max_length=100, null=True)  # the till or system that redeemed it (the API's "till")


class GreetingSent(BaseModel):
    """One occasion greeted for one customer in one year: the greetings job never sends it twice (v4)."""

    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    occasion = CharField(max_length=64)  # birthday / anniversary / holiday name
    year = IntegerField()
    sent_at = DateTimeField(default=utcnow)
    outcome = CharField(max_length=32, default="sent")  # sent / opted_out / unreachable / no_contact / no_template

    class Meta:
        indexes = ((("customer", "occasion", "year"), True),)


class FaqLog(BaseModel):
    """A question the bot tried to answer itself, and how it went (schema version 4): /stats reads it."""

    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    channel = CharField(max_length=16)
    language = CharField(max_length=8)
    question = TextField(default="")
    answer_key = CharField(max_length=64, null=True)  # None: nothing matched well enough
    score = DoubleField(null=True)
    outcome = CharField(max_length=16, default="answered")  # answered / helpful / unhelpful / handoff
    ticket = ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "created_at"), False), (("created_at",), False))


V4_TABLES = [CustomerTag, Order, Coupon, GreetingSent, FaqLog]
ALL += V4_TABLES


class Erasure(BaseModel):
    """A customer's personal data erased on request (schema version 6): when, and what was kept as anonymous
    counts. The customer row itself stays, emptied, so that tickets, ratings and orders still add up."""

    customer = ForeignKeyField(Customer, on_delete="CASCADE", unique=True)
    erased_at = DateTimeField(default=utcnow)
    tickets = IntegerField(default=0)
    messages = IntegerField(default=0)
    orders = IntegerField(default=0)


V6_TABLES = [Erasure]
ALL += V6_TABLES


class DashboardLink(BaseModel):
    """A used login link of the owners' dashboard: its nonce, kept so that a link logs in only once."""

    nonce = CharField(max_length=64, unique=True)
    owner_id = BigIntegerField()
    used_at = DateTimeField(default=utcnow)


class DashboardSession(BaseModel):
    """An owner logged in to the dashboard: the cookie holds a random token, this row its SHA-256."""

    token_hash = CharField(max_length=64, unique=True)
    owner_id = BigIntegerField()
    language = CharField(max_length=8)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)


V7_TABLES = [DashboardLink, DashboardSession]
ALL += V7_TABLES


class PointsChange(BaseModel):
    """A change of a customer's loyalty points (schema step "coupons redeemed, points ledger"): an order's award,
    the points taken back when a delivered order is cancelled or returned. `change` is what really moved (a take-back
    never goes below zero), `balance` the points after it."""

    customer = ForeignKeyField(Customer, backref="points_changes", on_delete="CASCADE")
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
    change = IntegerField()
    balance = IntegerField()
    reason = CharField(max_length=32)  # awarded / cancelled / returned / adjusted
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "created_at"), False), (("order",), False))


LEDGER_TABLES = [PointsChange]
ALL += LEDGER_TABLES


class ReportDay(BaseModel):
    """A settled local day of the dashboard's numbers, rolled up by the scheduler (schema version 10): for one
    `metric` (handlers/features/reports/daily.py) and one `key` (a channel, a priority, an agent …): how many
    tickets had no value, and the others' values in order, as 8-byte floats (little-endian): exact, so medians and
    percentiles stay exact, and a quarter of them is read in a few milliseconds."""

    day = CharField(max_length=10)  # YYYY-MM-DD in the shop's calendar
    metric = CharField(max_length=16)
    key = TextField(default="")
    blank = IntegerField(default=0)
    numbers = BlobField(default=b"")

    class Meta:
        indexes = ((("day", "metric", "key"), True),)


class ReportDayDone(BaseModel):
    """A local day the roll-up job has taken on (schema version 10): its bounds in UTC (changes to tickets before
    the latest `ends_at` are recorded in report_change), the UTC offset its rows were counted with, and when it
    was last rolled up (None: taken on, not yet counted)."""

    day = CharField(max_length=10, primary_key=True)
    starts_at = DateTimeField()
    ends_at = DateTimeField(index=True)
    offset_minutes = IntegerField()
    rolled_at = DateTimeField(null=True)


class ReportChange(BaseModel):
    """A moment (a ticket's created_at, closed_at or csat_asked_at, before or after a change) whose day's roll-up
    no longer holds (schema version 10). Written by the database's triggers on ticket (db/triggers.py), so every
    writer is covered; the roll-up job counts those days again and deletes the rows it read."""

    moment = DateTimeField(index=True)


ROLLUP_TABLES = [ReportDay, ReportDayDone, ReportChange]
ALL += ROLLUP_TABLES
