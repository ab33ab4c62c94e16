"""Webhook bodies are capped (app.max_body_bytes, 1 MB by default): a larger one gets 413 before it is read,
and leaves nothing behind; one just under the cap is taken as usual."""

import contextlib
import json
import socket
import subprocess
import sys
import time

from db.models import InboundEvent, Ticket
from tests.helpers import ROOT, SECRET, base_env, free_port, start
from tests.standins.twilio_api import inbound_form, sign

CAP = 1024 * 1024


def raw_post(port: int, path: str, headers: dict, body_parts, timeout=5.0) -> tuple[int, float]:
    """POST by hand, sending the body part by part and stopping as soon as the server answers: the status
    and the seconds until it came. A server that reads a huge body before answering makes this slow."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        conn.sendall(head.encode())
        conn.setblocking(False)
        answer = b""
        for part in body_parts:
            with contextlib.suppress(BlockingIOError):
                answer += conn.recv(4096)
            if answer:
                break
            try:
                conn.sendall(part)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
        conn.setblocking(True)
        conn.settimeout(timeout)
        while b"\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def thirty_megabytes():
    """A Telegram update's beginning, then 30 MB of padding, in 64 KB pieces."""
    yield b'{"update_id": 1, "message": {"text": "'
    for _ in range(30 * 16):
        yield b"x" * 65536
    yield b'"}}'


def chunked(parts):
    for part in parts:
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def nothing_stored():
    assert InboundEvent.select().count() == 0
    assert Ticket.select().count() == 0


def test_a_30_mb_telegram_update_with_the_right_secret_gets_413_at_once(khidmat):
    port = khidmat.server.effective_port
    headers = {
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
        "Content-Type": "application/json",
        "Content-Length": str(30 * 1024 * 1024 + 41),
    }
    status, took = raw_post(port, "/telegram/webhook", headers, thirty_megabytes())
    assert status == 413
    assert took < 2.0, f"answered after {took:.1f} s: the body was read first"
    nothing_stored()


def test_a_chunked_upload_over_the_cap_gets_413_and_stores_nothing(khidmat):
    port = khidmat.server.effective_port
    headers = {
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    status, _ = raw_post(port, "/telegram/webhook", headers, chunked(thirty_megabytes()))
    assert status == 413
    nothing_stored()


def test_a_2_mb_twilio_post_gets_413_before_the_signature_is_even_checked(khidmat):
    form = inbound_form("+923001234567", "x" * (2 * CAP), "+14155550100")
    url = khidmat.settings["app"]["public_url"] + "/twilio/inbound"
    r = khidmat.http.post(
        f"{khidmat.url}/twilio/inbound", data=form, headers={"X-Twilio-Signature": sign("x", url, form)}, timeout=10
    )
    assert r.status_code == 413
    nothing_stored()


def test_behind_gunicorn_flask_refuses_by_content_length_with_the_same_answer(khidmat):
    """gunicorn hands the body to the app unread: the app's own check answers, from the declared length."""
    client = khidmat.app.test_client()
    r = client.post(
        "/telegram/webhook",
        data=b"{" + b" " * (2 * CAP) + b"}",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.get_json() == {"error": "request body too large"}
    nothing_stored()


def test_an_update_just_under_the_cap_is_taken(khidmat):
    update = khidmat.tg.incoming(21, "my parcel never came", user_id=21)
    update["padding"] = "x" * (CAP - len(json.dumps(update)) - 100)  # fields Telegram may add are kept as sent
    assert CAP - 200 < len(json.dumps(update)) < CAP
    assert khidmat.post_update(update).status_code == 200
    assert khidmat.wait_chat(21, lambda t: "#1001" in t, what="the acknowledgement")
    assert InboundEvent.select().count() == 1 and Ticket.select().count() == 1


def test_python_webhook_py_refuses_a_30_mb_body_at_once(db_url, tmp_path):
    env = base_env(db_url)
    env["BOT_TELEGRAM_WEBHOOK_SECRET"] = SECRET
    port = free_port()
    proc = start(env, port, tmp_path / "out.log")
    try:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Length": str(30 * 1024 * 1024)}
        status, took = raw_post(port, "/telegram/webhook", headers, thirty_megabytes())
        assert status == 413 and took < 2.0, (status, took)
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_wrong_setting_stops_start_up_with_one_clear_line(db_url):
    env = base_env(db_url)
    env["BOT_APP_MAX_BODY_BYTES"] = "a lot"
    done = subprocess.run([sys.executable, "webhook.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == "settings: BOT_APP_MAX_BODY_BYTES='a lot' should be a whole number"
    assert "Traceback" not in done.stderr


def test_a_wrong_setting_stops_the_worker_and_the_flask_commands_too(db_url):
    env = base_env(db_url)
    env["BOT_SLA_WARN_AT"] = "soon"
    for command in (
        [sys.executable, "worker.py"],
        [sys.executable, "-m", "flask", "--app", "webhook", "db", "upgrade"],
    ):
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.strip().splitlines()[-1] == "settings: BOT_SLA_WARN_AT='soon' should be a number"
