"""One customer's data, as a shop would ask for it on the command line, on SQLite and PostgreSQL:
`customers export` holds everything stored about them; after `customers forget` no personal field of theirs is
left in any text column of any table, the owners' counts still add up, and the same number is a new customer."""

from __future__ import annotations

import json

import db
from db.models import Coupon, Customer, Erasure, Message, Order, Ticket
from tests.helpers import ORDER_HEADER, base_env, eventually, flask, import_orders, quiet

NAME, FAMILY = "Zarmeena", "Qureshi"
PHONE = "+923331234567"
LOCAL = "0333-1234567"
TELEGRAM_ID = "7123456789"
NEEDLES = (NAME, FAMILY, PHONE.lstrip("+"), "1234567")  # her names, her number with or without +92 / 0333
ORDERS = f"""{ORDER_HEADER}
5531,{NAME} {FAMILY},{LOCAL},{TELEGRAM_ID},2 kurtas,"4,500",delivered,2026-11-28,1990-08-14,2015-03-01,en,vip
"""


def cli(db_url, *args, stdin=None):
    return flask(base_env(db_url), *args, stdin=stdin)


def a_customer_with_a_history(k, tmp_path):
    """An imported order (points, birthday, tags, a Telegram id), a WhatsApp complaint, an agent's answer with
    her name in it, a coupon and an internal note; then she sends STOP."""
    import_orders(k, tmp_path, ORDERS)
    k.whatsapp(PHONE, "my kurta from order 5531 came torn", profile_name=f"{NAME} {FAMILY}")
    card = k.wait_group(lambda t: "came torn" in t)[0]
    k.agent_message(f"Sorry {NAME}, we will send a new one", reply_to=card["message_id"])
    k.wait_twilio(f"whatsapp:{PHONE}", lambda b: "we will send a new one" in b)
    k.agent_message(f"/note {NAME} called from {LOCAL} too", reply_to=card["message_id"])
    k.agent_message("/discount 10 torn kurta", reply_to=card["message_id"])
    eventually(lambda: Coupon.get_or_none(), what="a coupon")
    k.whatsapp(PHONE, "STOP")
    eventually(lambda: Customer.get(Customer.phone == PHONE).marketing_opt_out, what="the opt-out")
    quiet(k)


def test_export_holds_everything_stored_about_the_customer(khidmat, db_url, tmp_path):
    a_customer_with_a_history(khidmat, tmp_path)
    done = cli(db_url, "customers", "export", LOCAL)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    person = data["customer"]
    assert (person["name"], person["phone"]) == (f"{NAME} {FAMILY}", PHONE)
    assert str(person["telegram_user_id"]) == TELEGRAM_ID
    assert (person["birthday"], person["birth_year"], person["anniversary"]) == ("08-14", 1990, "03-01")
    assert person["opted_out_of_offers"] is True and person["points"] == 45 and person["tags"] == ["vip"]
    assert [(c["channel"], c["address"]) for c in data["contacts"]] == [("whatsapp", f"whatsapp:{PHONE}")]
    [ticket] = data["tickets"]
    texts = [m["text"] for m in ticket["messages"]]
    assert "my kurta from order 5531 came torn" in texts
    assert any("we will send a new one" in t for t in texts) and any("called from" in t for t in texts)
    [order] = data["orders"]
    assert (order["ref"], order["items"], order["status"]) == ("5531", "2 kurtas", "delivered")
    [coupon] = data["coupons"]
    assert coupon["code"] == Coupon.get().code and coupon["value"] in ("10", "10.00")
    assert [(p["change"], p["balance"], p["reason"]) for p in data["points_changes"]] == [(45, 45, "awarded")]
    by_telegram = cli(db_url, "customers", "export", f"telegram:{TELEGRAM_ID}")
    by_id = cli(db_url, "customers", "export", str(person["id"]))
    assert json.loads(by_telegram.stdout) == json.loads(by_id.stdout) == data


def test_unknown_customers_are_refused_clearly(khidmat, db_url, tmp_path):
    for command in ("export", "forget"):
        done = cli(db_url, "customers", command, "+923009999999", *(["--yes"] if command == "forget" else []))
        assert done.returncode != 0 and "no customer '+923009999999'" in done.stderr, done.stderr
        assert done.stdout == ""
    assert cli(db_url, "customers", "export").returncode != 0


def _text_columns():
    """(table, column) for every text column of every table in the database."""
    database = db.database
    schema = None if _sqlite() else database.execute_sql("SELECT current_schema()").fetchone()[0]
    tables = database.get_tables(schema=schema)
    assert len(tables) >= 15, tables
    for table in tables:
        for column in database.get_columns(table, schema=schema):
            kind = column.data_type.lower()
            if "char" in kind or "text" in kind or "json" in kind:
                yield table, column.name


def _where_found(needle: str) -> list[str]:
    found = []
    for table, column in _text_columns():
        cursor = db.database.execute_sql(
            f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE %s'.replace("%s", "?" if _sqlite() else "%s"),
            (f"%{needle}%",),
        )
        if cursor.fetchone()[0]:
            found.append(f"{table}.{column}")
    return found


def _sqlite() -> bool:
    return db.connection.is_sqlite()


def test_forget_erases_every_personal_field_keeps_the_counts_and_a_new_message_is_a_new_customer(
    khidmat, db_url, tmp_path
):
    a_customer_with_a_history(khidmat, tmp_path)
    before = {m: m.select().count() for m in (Ticket, Message, Order, Coupon, Customer)}
    forgotten_id = Customer.get(Customer.phone == PHONE).id
    for needle in NEEDLES:
        assert _where_found(needle), f"the test's customer should be findable by {needle} before forget"

    cancelled = cli(db_url, "customers", "forget", PHONE, stdin="n\n")
    assert cancelled.returncode == 0 and "cancelled: nothing changed" in cancelled.stdout
    assert Customer.get(Customer.id == forgotten_id).name == f"{NAME} {FAMILY}"

    done = cli(db_url, "customers", "forget", PHONE, "--yes")
    assert done.returncode == 0, done.stderr
    assert f"customer {forgotten_id} (" in done.stdout and "forgotten at" in done.stdout
    assert "1 tickets and" in done.stdout
    assert PHONE not in done.stdout + done.stderr and NAME not in done.stderr
    for needle in NEEDLES:
        assert _where_found(needle) == [], f"{needle} is still stored"
    assert not Customer.select().where(Customer.telegram_user_id == int(TELEGRAM_ID)).exists()
    assert {m: m.select().count() for m in (Ticket, Message, Order, Coupon, Customer)} == before
    erasure = Erasure.get(Erasure.customer == forgotten_id)
    assert erasure.erased_at is not None and (erasure.tickets, erasure.orders) == (1, 1)
    assert Ticket.get().rating is None and Order.get().ref == "5531"  # the shop's own records stay, anonymous

    again = cli(db_url, "customers", "forget", PHONE, "--yes")
    assert again.returncode != 0 and "no customer" in again.stderr
    khidmat.whatsapp(PHONE, "hello, my new order has not come", profile_name="Someone")
    card = khidmat.wait_group(lambda t: "my new order has not come" in t)[0]["text"]
    assert NAME not in card
    newcomer = Customer.get(Customer.phone == PHONE)
    assert newcomer.id != forgotten_id and newcomer.name == "Someone" and newcomer.points == 0


def test_a_number_that_is_two_customers_is_refused_until_named(khidmat, db_url, tmp_path):
    import_orders(
        khidmat,
        tmp_path,
        f"{ORDER_HEADER}\n7001,Bilal,,2,Shoes,1000,pending,2026-11-30,,,en,\n7002,Hina,0300-7654321,,Bag,900,pending,,,,en,\n",
    )
    hina = Customer.get(Customer.name == "Hina")
    assert hina.id == 2  # Bilal's Telegram id is 2, Hina's customer id is 2
    both = cli(db_url, "customers", "export", "2")
    assert both.returncode != 0 and "'2' is more than one customer" in both.stderr
    assert "telegram:2 is customer 1" in both.stderr and "customer:2 is customer 2" in both.stderr
    named = cli(db_url, "customers", "export", "customer:2")
    assert named.returncode == 0 and json.loads(named.stdout)["customer"]["name"] == "Hina"
    assert json.loads(cli(db_url, "customers", "export", "telegram:2").stdout)["customer"]["name"] == "Bilal"
