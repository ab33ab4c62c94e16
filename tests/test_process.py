"""`python webhook.py` as a shop runs it: starts with nothing configured, and survives kill -9 mid-send."""

import signal
import subprocess
import sys

import requests

import db
from tests.helpers import AGENTS, ROOT, SECRET, TOKEN, base_env, eventually, free_port, quiet, start, telegram_env


def test_starts_with_no_tokens_and_says_what_is_missing(db_url, tmp_path):
    port = free_port()
    log_path = tmp_path / "out.log"
    proc = start(base_env(db_url), port, log_path)
    try:
        assert requests.post(f"http://127.0.0.1:{port}/telegram/webhook", json={"update_id": 1}).status_code == 403
        assert requests.post(f"http://127.0.0.1:{port}/twilio/inbound", data={"Body": "x"}).status_code == 403
    finally:
        proc.terminate()
        proc.wait(10)
    log = log_path.read_text()
    assert "telegram: not configured" in log
    assert "whatsapp/sms: not configured" in log
    assert "listening on http://127.0.0.1" in log


def test_kill_9_mid_sending_then_restart_loses_and_repeats_nothing(db_url, tmp_path, tg_api):
    env = telegram_env(db_url, tg_api, scheduler_enabled="false")
    tg_api.set_delay(0.05)  # slow platform: the backlog is still draining when we kill
    port = free_port()
    proc = start(env, port, tmp_path / "out.log")
    n = 40
    session = requests.Session()
    for i in range(n):
        update = tg_api.incoming(1000 + i, f"complaint number {i:03d}", user_id=1000 + i, first_name=f"C{i}")
        r = session.post(
            f"http://127.0.0.1:{port}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert r.status_code == 200
    eventually(lambda: len(tg_api.sent()) >= 10, timeout=10, what="some sends")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    delivered_before = len(tg_api.sent())
    assert delivered_before < 2 * n, "the kill came too late to test anything"
    tg_api.set_delay(0)
    proc = start(env, port, tmp_path / "out.log")
    try:

        def all_there():
            cards = [m for m in tg_api.sent(chat_id=AGENTS) if "complaint number" in (m["text"] or "")]
            acks = [m for m in tg_api.sent() if m["chat_id"] != str(AGENTS)]
            return (
                (cards, acks)
                if len({c["text"] for c in cards}) == n and len({a["chat_id"] for a in acks}) == n
                else None
            )

        cards, acks = eventually(all_there, timeout=30, what="every card and acknowledgement")
        db.connect(db_url)  # once its inbox and outbox are idle, nothing more is on its way
        try:
            quiet()
        finally:
            db.connection.close_all()
        cards, acks = all_there()
        # only sends that were in flight at the kill may repeat: each message at most twice,
        # and no more repeats than sends in flight at once (sender.concurrency)
        from collections import Counter

        per_message = Counter([c["text"] for c in cards] + [a["chat_id"] for a in acks])
        assert max(per_message.values()) <= 2, per_message.most_common(3)
        assert sum(v - 1 for v in per_message.values()) <= 32
    finally:
        proc.terminate()
        proc.wait(10)


def test_flask_commands_as_a_shop_runs_them(db_url, tg_api):
    env = base_env(db_url)
    env.update(
        {
            "BOT_TELEGRAM_TOKEN": TOKEN,
            "BOT_TELEGRAM_API_BASE_URL": tg_api.base_url,
            "BOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BOT_APP_PUBLIC_URL": "https://bot.myshop.pk",
        }
    )
    flask = [sys.executable, "-m", "flask", "--app", "webhook"]
    upgrade = subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"schema version {len(__import__('db.migrations').migrations.STEPS)}" in upgrade.stdout
    hook = subprocess.run([*flask, "set-webhook"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert hook.returncode == 0, hook.stderr
    assert "https://bot.myshop.pk/telegram/webhook" in hook.stdout
    params = next(c for c in tg_api.calls if c["method"] == "setWebhook")["params"]
    assert params["url"] == "https://bot.myshop.pk/telegram/webhook" and params["secret_token"] == SECRET
    assert TOKEN not in hook.stdout + hook.stderr
    job = subprocess.run([*flask, "jobs", "run", "sla"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert job.returncode == 0 and "job sla done" in job.stdout, job.stderr
    unknown = subprocess.run(
        [*flask, "jobs", "run", "nope"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode != 0 and "unknown job 'nope'" in unknown.stderr
    # without a secret it refuses to register an open webhook, with a clear message
    env["BOT_TELEGRAM_WEBHOOK_SECRET"] = ""
    refused = subprocess.run([*flask, "set-webhook"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "webhook_secret is empty" in refused.stderr
