"""The database layer on both SQLite and PostgreSQL: schema versioning, 64-bit ids, one ticket per burst."""

import threading

import config
import db
from bots.base import Inbound
from db import migrations, triggers
from db.models import GroupMessage, InboundEvent, SchemaVersion, Ticket
from handlers import inbound as door
from inbox import store
from tests.helpers import make_settings


def setup_db(db_url):
    config.activate(make_settings(db_url))
    db.connect(db_url)
    return migrations.upgrade()


def test_upgrade_records_version_and_is_idempotent(db_url):
    assert setup_db(db_url) == len(migrations.STEPS)
    assert migrations.upgrade() == len(migrations.STEPS)
    assert SchemaVersion.select().count() == len(migrations.STEPS)
    db.connection.close_all()


def test_telegram_ids_are_64_bit(db_url):
    setup_db(db_url)
    with db.write():
        from db.models import Contact, Customer

        customer = Customer.create(name="x", telegram_user_id=7_123_456_789_012)
        contact = Contact.create(customer=customer, channel="telegram", address="7123456789012")
        ticket = Ticket.create(customer=customer, contact=contact, thread_id=2**40)
        GroupMessage.create(chat_id=-1002_345_678_901_234, message_id=2**33, ticket=ticket)
    row = GroupMessage.get()
    assert row.chat_id == -1002_345_678_901_234 and row.message_id == 2**33
    assert Ticket.get().thread_id == 2**40
    db.connection.close_all()


def test_concurrent_first_messages_open_one_ticket(db_url):
    setup_db(db_url)
    errors = []

    for i in range(8):
        store.store("twilio", f"SM{i}", {})
    events = list(InboundEvent.select())

    def write(i):
        try:
            door.handle(
                events[i],
                Inbound(
                    channel="whatsapp",
                    external_id=f"SM{i}",
                    kind="message",
                    chat_id="whatsapp:+923001234567",
                    user_id="+923001234567",
                    user_name="Ali",
                    text=f"part {i}",
                ),
            )
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)
        finally:
            db.connection.release()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Ticket.select().count() == 1
    assert InboundEvent.select().where(InboundEvent.status == "done").count() == 8
    db.connection.close_all()


def test_upgrade_from_first_released_schema_keeps_data(db_url):
    from playhouse.migrate import SchemaMigrator, migrate

    from db.models import Contact, Customer, SchemaVersion

    setup_db(db_url)
    # put the database back to version 1: no triage columns, no agent table
    database = db.database.obj
    migrator = SchemaMigrator.from_database(database)
    triggers.drop()  # the roll-ups' (schema version 10), on columns about to go
    for index in (
        "customer_birthday",
        "customer_anniversary",
        "customer_tier",
        *migrations.V7_INDEXES,
        *migrations.V8_INDEXES,
        *migrations.ROLLUP_INDEXES,
    ):
        database.execute_sql(f"DROP INDEX IF EXISTS {index}")
    migrate(
        *[migrator.drop_column("ticket", c) for c in [*migrations.V2_TICKET_COLUMNS, "order_ref", "team"]],
        *[migrator.drop_column("customer", c) for c in migrations.V4_CUSTOMER_COLUMNS],
    )
    for table in ["agent", "broadcast_recipient", "broadcast"] + [
        m._meta.table_name
        for m in [
            *migrations.LEDGER_TABLES,
            *migrations.V4_TABLES,
            *migrations.V6_TABLES,
            *migrations.V7_TABLES,
            *migrations.ROLLUP_TABLES,
        ]
    ]:
        database.execute_sql(f'DROP TABLE "{table}"' + ("" if db.connection.is_sqlite() else " CASCADE"))
    SchemaVersion.delete().where(SchemaVersion.version > 1).execute()
    database.execute_sql(
        "INSERT INTO customer (name, marketing_opt_out, created_at) VALUES ('Old', false, '2026-01-01')"
    )
    database.execute_sql("INSERT INTO contact (customer_id, channel, address) VALUES (1, 'sms', '+923001234567')")
    database.execute_sql(
        "INSERT INTO ticket (customer_id, contact_id, status, subject, priority, created_at, "
        "last_customer_at) VALUES (1, 1, 'open', 'old one', 'normal', '2026-01-01', '2026-01-01')"
    )
    database.execute_sql(
        "INSERT INTO message (ticket_id, direction, channel, text, created_at) "
        "VALUES (1, 'in', 'sms', 'my parcel', '2026-01-01')"
    )
    assert migrations.current_version() == 1
    assert migrations.upgrade() == len(migrations.STEPS)
    ticket = Ticket.get()
    assert ticket.subject == "old one" and ticket.tags == [] and ticket.urgent is False and ticket.rating is None
    assert ticket.team is None  # schema version 8: in the main group
    from db.models import Agent, Order

    assert Agent.select().count() == 0
    customer = Customer.get()
    assert customer.name == "Old" and customer.points == 0 and customer.birthday is None
    assert Order.select().count() == 0
    from db.models import Message  # rebuilding a table on SQLite must not cascade into the conversation

    assert [m.text for m in Message.select()] == ["my parcel"] and Contact.select().count() == 1
    db.connection.close_all()
