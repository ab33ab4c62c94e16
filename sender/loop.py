"""The send loop: pick due outbox rows lane by lane (one lane per destination, in order), pace them,
send through bots/, and record the outcome — retry later, done, or undeliverable (handlers decide what
that means for the business).

It runs an asyncio loop in its own thread; database work runs in a thread pool. It wakes at once when a
transaction enqueues (outbox.on_enqueue, or PostgreSQL NOTIFY from other processes) and polls
only as a fallback.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING

from peewee import InterfaceError, OperationalError, fn

import config
import hooks
import outbox
from bots.base import FAILED, GONE, RETRY, SENT, SMS, TELEGRAM, WHATSAPP, SendResult
from db.connection import after_commit, release, write
from db.models import Outbox
from inbox import store
from sender.pacing import Pacer, sms_segments

if TYPE_CHECKING:
    from bots.telegram import TelegramBot

log = logging.getLogger(__name__)

MERGE_LIMIT = 3800  # merged group messages stay one Telegram message (4096) with room for the header
BATCH = 300
LOOKAHEAD = 0.2  # a send may be scheduled this far ahead of its pacing slot


DB_THREADS = 6  # threads (so connections) for the sender's database work
BUSY_INFLIGHT = 8  # sends in flight from which the dispatcher batches its rounds
BUSY_ROUND_GAP_S = 0.004  # the pause between two rounds then


class Sender:
    def __init__(self, settings, telegram_bot_factory=None, twilio_bot=None):
        self.settings = settings
        self._telegram_factory = telegram_bot_factory
        self.twilio = twilio_bot
        self.telegram: TelegramBot | None = None
        self.pacer = Pacer(settings)
        self.concurrency = config.sender(settings).concurrency
        self.retry_for = config.sender(settings).retry_for_s
        self.max_backoff = config.sender(settings).max_backoff_s
        self.poll = config.sender(settings).poll_s
        self.inflight: set[str] = set()
        self.lane_wait: dict[str, float] = {}  # destination → monotonic time before which it waits
        self.merge_interval = config.sender(settings).merge_interval_s
        self.merged_at: dict[str, float] = {}  # merge key (a ticket's group relay) → when it last went
        # a ticket's follow-ups in the group's current minute: a flooding ticket may not take the slots of the
        # minute that are kept for the others (see _pick)
        self.merged_recent: dict[str, collections.deque] = {}
        # a platform away (5xx, timeouts, network errors): the channel is "failing" until a send succeeds,
        # and meanwhile sends one message at a time (a probe) instead of `concurrency` doomed ones; the
        # lanes that waited for it are retried at once when it is back, so priority decides who goes first
        self.failing: dict[str, set[str]] = {}  # channel → lanes waiting because the platform failed
        self._failing_lock = threading.Lock()
        # database work has threads of its own, few of them: each thread holds a connection (and on SQLite
        # its page cache), so memory and PostgreSQL connections stay bounded however many sends are in flight
        self.db_pool = concurrent.futures.ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="sender-db")
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.concurrency + 4, thread_name_prefix="sender-io"
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()
        self.started = threading.Event()
        self._deferred_since = 0.0
        self._sent_batch: tuple[list, asyncio.Future] | None = None  # sends waiting to be recorded together
        self._slot_waiting = 0  # sends in flight that only wait for their pacing slot (at most LOOKAHEAD ahead)
        self._recording = 0  # sends done that wait for their outcome to be written together
        self._group_checked_at, self._group_ok = -1e9, False

    # ---- life cycle -------------------------------------------------------------------------
    def start(self) -> Sender:
        outbox.on_enqueue(self.wake)
        self._thread = threading.Thread(target=self._run, name="sender", daemon=True)
        self._thread.start()
        self.started.wait(10)
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stopping = True
        self.wake()
        if self._thread:
            self._thread.join(timeout)
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.db_pool.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        loop, event = self.loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._event = event = asyncio.Event()
        if self._telegram_factory:
            self.telegram = self._telegram_factory(self.pacer.gates[TELEGRAM])
        self.started.set()
        if self.telegram is not None and self.telegram.configured:
            self._spawn(self._startup_checks())
        while not self._stopping:
            event.clear()
            try:
                next_due = await self._dispatch_round()
            except Exception:
                log.exception("sender round failed")
                next_due = 1.0
            if len(self.inflight) >= BUSY_INFLIGHT:
                # busy (a broadcast at the platform's rate): let a few sends finish before the next round,
                # so one round (one database fetch) refills several slots instead of one per finished send
                await asyncio.sleep(BUSY_ROUND_GAP_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=max(0.001, min(self.poll, next_due)))
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self.telegram is not None:
            await self.telegram.close()

    def _busy_sends(self) -> int:
        """Sends that take a share of `concurrency` (requests to a platform at once): those waiting for their
        pacing slot do not (at the platform's rate, LOOKAHEAD of sends wait so), nor those already answered
        and waiting to be recorded (a broadcast's chunk being written must not stall the sending)."""
        return len(self.inflight) - self._slot_waiting - self._recording

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _db(self, fn_, *args):
        return await asyncio.get_running_loop().run_in_executor(self.db_pool, _released, fn_, args)

    # ---- choosing what goes next --------------------------------------------------------------
    def _group_known(self, now: float) -> bool:
        """Whether the agents' group id is known (read from the database at most every 2 s)."""
        if now - self._group_checked_at > 2:
            self._group_checked_at, self._group_ok = now, agents_group_known()
        return self._group_ok

    def _configured(self, channel: str) -> bool:
        if channel == TELEGRAM:
            return self.telegram is not None and self.telegram.configured
        return self.twilio is not None and self.twilio.channel_configured(channel)

    def _fetch(self, busy_lanes: list[str], busy_channels: list[str], lanes_wanted: int) -> list[Outbox]:
        """Due rows of the first `lanes_wanted` free lanes, in order. Only those lanes' rows are loaded
        whole (payloads decoded): a deep backlog costs a narrow index scan, not hundreds of objects."""
        query = Outbox.select(Outbox.id, Outbox.destination).where(
            (Outbox.status == "pending") & (Outbox.next_attempt_at <= time.time())
        )
        if busy_lanes:
            query = query.where(Outbox.destination.not_in(busy_lanes))
        if busy_channels:
            query = query.where(Outbox.channel.not_in(busy_channels))
        lanes: dict[str, list[int]] = {}
        for row_id, lane in query.order_by(Outbox.priority, Outbox.id).limit(BATCH).tuples():
            if lane in lanes or len(lanes) < lanes_wanted:
                lanes.setdefault(lane, []).append(row_id)
        ids = [row_id for lane_ids in lanes.values() for row_id in lane_ids]
        if not ids:
            return []
        return list(Outbox.select().where(Outbox.id.in_(ids)).order_by(Outbox.priority, Outbox.id))

    async def _dispatch_round(self) -> float:
        now = time.monotonic()
        if store.storing() and now - self._deferred_since < 0.2:
            return 0.005  # a burst is being accepted: storing comes first (never held back for long)
        self._deferred_since = now
        busy_lanes = set(self.inflight) | {d for d, t in self.lane_wait.items() if t > now}
        if not self._group_known(now):
            busy_lanes.add(f"{TELEGRAM}:{outbox.GROUP}")
        probing = {lane.split(":", 1)[0] for lane in self.inflight} & set(self.failing)
        busy_channels = [
            c
            for c in (TELEGRAM, WHATSAPP, SMS)
            if not self._configured(c) or self.pacer.channel_wait(c, now) > LOOKAHEAD or c in probing
        ]
        next_due = min(
            [self.poll]
            + [self.pacer.channel_wait(c, now) for c in busy_channels if self._configured(c)]
            + [t - now for t in self.lane_wait.values() if t > now]
        )
        if self._busy_sends() >= self.concurrency or len(busy_channels) == 3:
            return max(next_due, 0.001)
        rows = await self._db(
            self._fetch, sorted(busy_lanes), busy_channels, 2 * (self.concurrency - self._busy_sends())
        )
        lanes: dict[str, list[Outbox]] = {}
        for row in rows:
            lanes.setdefault(row.destination, []).append(row)
        for lane, lane_rows in lanes.items():
            if self._busy_sends() >= self.concurrency:
                break
            now = time.monotonic()
            start, cooling = self._pick(lane_rows, now)
            if start is None:
                next_due = min(next_due, cooling)
                continue
            head = lane_rows[start]
            if head.channel in probing:
                continue
            wait = self.pacer.wait(head.channel, head.chat_id, now)
            if wait > (LOOKAHEAD if head.channel not in self.failing else 0):
                next_due = min(next_due, wait)
                continue
            batch = self._merge(lane_rows[start:])
            if head.merge_key and head.payload.get("merge_header"):
                self.merged_at[head.merge_key] = now
                self.merged_recent.setdefault(head.merge_key, collections.deque()).append(now)
            # reserve the slot the pacer gives it; the send waits for it (sending from rows already fetched
            # keeps a rate-bound channel at its limit instead of one message per database round)
            self.pacer.take(head.channel, head.chat_id, now + wait, head.payload.get("text", ""))
            self.inflight.add(lane)
            if head.channel in self.failing:
                probing.add(head.channel)
            self._spawn(self._deliver(lane, batch, wait))
        if len(rows) >= self.concurrency - self._busy_sends():
            next_due = min(next_due, 0.0)
        return max(next_due, 0.0005)

    def _pick(self, lane_rows: list[Outbox], now: float) -> tuple[int | None, float]:
        """The first row of the lane that may go now. A ticket's merged messages go into the group at most
        every merge_interval_s (a flooding customer waits, merged, while other tickets pass); a row held
        back holds back the later rows of its ticket, so order within a ticket is kept."""
        held: set[int] = set()
        soonest = self.poll
        window = self.pacer.groups.get(lane_rows[0].chat_id) if lane_rows else None
        for index, row in enumerate(lane_rows):
            if row.ticket_id is not None and row.ticket_id in held:
                continue
            if row.merge_key and row.payload.get("merge_header"):
                ready_at = self.merged_at.get(row.merge_key, -1e9) + self.merge_interval
                if ready_at > now or self._flooding(row.merge_key, window, now):
                    held.add(row.ticket_id)
                    soonest = min(soonest, max(ready_at - now, 0.5))
                    continue
            return index, 0.0
        if len(self.merged_at) > 10000:
            self.merged_at = {k: t for k, t in self.merged_at.items() if t + self.merge_interval > now}
            self.merged_recent = {k: q for k, q in self.merged_recent.items() if q and q[-1] > now - 60}
        return None, soonest

    def _flooding(self, merge_key: str, window, now: float) -> bool:
        """A ticket that already had its share of the group's minute (a fifth of it), while only the last
        quarter of the minute's slots is left: those slots are kept for other tickets (a new customer's card
        must not wait a minute behind two floods)."""
        if window is None:
            return False
        recent = self.merged_recent.get(merge_key)
        if not recent:
            return False
        while recent and recent[0] <= now - window.period:
            recent.popleft()
        return len(recent) >= max(2, window.limit // 5) and window.free(now) <= max(1, window.limit // 4)

    @staticmethod
    def _merge(lane_rows: list[Outbox]) -> list[Outbox]:
        """The head row, plus the ticket's later rows in this lane that may join it (text only, in order).

        Rows of other tickets in between are passed over (order only matters within a ticket); a row of
        the same ticket that cannot be merged (media) ends the batch so nothing overtakes it."""
        head = lane_rows[0]
        batch = [head]
        if not head.merge_key or not head.payload.get("merge_header") or head.payload.get("media"):
            return batch
        size = len(head.payload.get("text", ""))
        for row in lane_rows[1:]:
            if row.ticket_id != head.ticket_id:
                continue
            text = row.payload.get("text", "")
            if row.merge_key != head.merge_key or row.payload.get("media") or size + len(text) > MERGE_LIMIT:
                break
            batch.append(row)
            size += len(text) + 1
        return batch

    # ---- one send -----------------------------------------------------------------------------
    async def _deliver(self, lane: str, rows: list[Outbox], delay: float = 0.0) -> None:
        slot = time.monotonic() + delay
        try:
            while True:
                prestep = await self._deliver_once(lane, rows, slot)
                if not prestep:
                    return
                # the ticket's topic exists now (its thread id is written): its card follows at once, still
                # holding the lane (nothing overtakes it), on the slot the rows were paced by (creating a topic
                # is no message into the chat, so it went ahead of that slot), if the platform's rate allows the
                # extra request soon; otherwise the rows go in a later round, when their slot is due
                now = time.monotonic()
                card_at = max(slot, now + self.pacer.follow_wait(rows[0].channel, now))
                if card_at - now > LOOKAHEAD or rows[0].channel in self.failing or self._stopping:
                    return
                self.pacer.take_follow(rows[0].channel, card_at)
                slot = card_at
        except Exception as exc:
            log.exception("delivering outbox %s failed", [r.id for r in rows])
            try:
                await self._db(self._record, lane, rows, None, SendResult.retry(None, repr(exc)), False, 0)
            except Exception:
                log.exception("could not record the failure")
        finally:
            self.inflight.discard(lane)
            if self._event is not None:  # in the loop's own thread: no need for wake()'s thread-safe hop
                self._event.set()

    async def _deliver_once(self, lane: str, rows: list[Outbox], slot: float) -> bool:
        """Build, send at the pacing slot and record one send; True if it was a preliminary step (the
        ticket's topic created) after which the rows themselves still have to go."""
        if outbox.is_group(rows[0].chat_id):  # the groups' messages look up their ticket's thread
            out, prestep = await self._db(hooks.business().build, rows)
        else:  # a customer's message is built from its row alone
            out, prestep = hooks.business().build(rows)
        if out is None:
            await self._db(self._finish, rows, "skipped", None)
            return False
        # wait for the pacing slot only now, right before the request: the time building took varies,
        # and sends spaced at the platform's limit must reach it spaced so, not bunched. Creating the ticket's
        # topic is no message into the chat: it goes ahead of the slot, which its card then takes
        if slot > time.monotonic() and not prestep:
            self._slot_waiting += 1
            try:
                await asyncio.sleep(slot - time.monotonic())
            finally:
                self._slot_waiting -= 1
        skip = 0 if prestep else rows[0].parts_sent
        result = await self._send(out, skip)
        if not prestep:  # the platform stamped it at some moment before its answer came back: count from then
            self.pacer.sent(rows[0].channel, rows[0].chat_id, time.monotonic())
        if (
            result.status == SENT
            and not prestep
            and out.channel not in self.failing
            and len(self.inflight) >= BUSY_INFLIGHT
        ):
            await self._record_sent_together(lane, rows, out, result)
        else:
            await self._record_surely(lane, rows, out, result, prestep, skip)
        return prestep and result.status == SENT

    async def _send(self, out, skip: int) -> SendResult:
        if out.channel == TELEGRAM:
            for media in list(out.media):
                if media.url and not media.file_id and media.data is None:
                    if self.twilio is None or not self.twilio.configured:
                        return SendResult.failed("media_unavailable", "Twilio is not configured")
                    try:
                        media.data, media.content_type = await asyncio.get_running_loop().run_in_executor(
                            self.pool, self.twilio.download_media, media.url
                        )
                    except Exception as exc:
                        status = getattr(getattr(exc, "response", None), "status_code", None)
                        if status is None or status >= 500 or status == 429:
                            return SendResult.retry(None, f"media download failed: {exc!r}")
                        # gone for good (4xx): the words still go, with a note instead of the file
                        out.media.remove(media)
                        out.text = hooks.business().media_unavailable_note(media.kind, status) + "\n" + out.text
            assert self.telegram is not None, "Telegram sends are queued only when the bot is configured"
            return await self.telegram.send(out, skip_parts=skip) if skip else await self.telegram.send(out)
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._twilio_send, out, skip)

    def _twilio_send(self, out, skip: int) -> SendResult:
        gate, cost = self.pacer.gates[out.channel], sms_segments(out.text or "") if out.channel == SMS else 1
        gate.pass_blocking(cost)
        try:
            return self.twilio.send(out, skip)
        finally:
            gate.done(cost)

    async def _record_sent_together(self, lane, rows, out, result: SendResult) -> None:
        """When busy (a broadcast), sends that went through are recorded a few at a time, in one transaction:
        one commit for several sends instead of one each. The lane stays in flight until its row is written."""
        if self._sent_batch is None:
            self._sent_batch = ([], asyncio.get_running_loop().create_future())
            self._spawn(self._flush_sent())
        items, done = self._sent_batch
        items.append((lane, rows, out, result))
        self._recording += 1
        try:
            await done
        finally:
            self._recording -= 1

    async def _flush_sent(self) -> None:
        await asyncio.sleep(BUSY_ROUND_GAP_S)
        assert self._sent_batch is not None, "a flush is spawned only with a batch"
        items, done = self._sent_batch
        self._sent_batch = None
        try:
            try:
                await self._db(self._record_sent_many, items)
            except (OperationalError, InterfaceError):
                for lane, rows, out, result in items:  # the database is away: one by one, until it is back
                    await self._record_surely(lane, rows, out, result, False, 0)
            done.set_result(None)
        except Exception as exc:
            done.set_exception(exc)

    def _record_sent_many(self, items) -> None:
        now = time.time()
        with write():
            for _, rows, out, result in items:
                _mark_sent(rows, out, result, now)

    async def _record_surely(self, lane, rows, out, result: SendResult, prestep: bool, skip: int) -> None:
        """Record a send's outcome even if the database is away for a while (a restart): the platform
        has answered, so forgetting the answer would send the message again. The lane stays in flight
        (nothing else goes to that destination) until the outcome is written."""
        delay = 0.25
        while True:
            try:
                return await self._db(self._record, lane, rows, out, result, prestep, skip)
            except (OperationalError, InterfaceError) as exc:
                if self._stopping:
                    raise
                log.warning(
                    "database unavailable while recording outbox %s (%r); trying again in %.1fs",
                    [r.id for r in rows],
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    # ---- recording the outcome (runs in the pool, one write transaction) ----------------------
    def _finish(self, rows, status, result: SendResult | None) -> None:
        with write():
            ids = [r.id for r in rows]
            fields = {Outbox.status: status, Outbox.sent_at: time.time()}
            if result is not None:
                fields.update(
                    {
                        Outbox.reason: result.reason or None,
                        Outbox.detail: (result.detail or "")[:2000],
                        Outbox.message_ids: result.message_ids or None,
                    }
                )
            Outbox.update(fields).where(Outbox.id.in_(ids)).execute()

    def _record(self, lane, rows, out, result: SendResult, prestep: bool, skip: int) -> None:
        head = rows[0]
        ids = [r.id for r in rows]
        now = time.time()
        with write():
            if result.status == SENT and out is not None:
                self._platform_back(out.channel)
            if result.status == SENT:
                if prestep:
                    hooks.business().topic_created(rows, out, result)
                    return
                _mark_sent(rows, out, result, now)
                return
            if result.status == RETRY and result.migrate_to_chat_id and outbox.is_group(head.chat_id):
                hooks.business().group_migrated(out.chat_id, result.migrate_to_chat_id)
                return  # resend at once to the new id
            if result.reason == "no_topics" and prestep:
                hooks.business().topics_unavailable(result.detail, head.chat_id)
                return
            if result.reason == "thread_gone" and head.attempts < 3:
                hooks.business().thread_gone(rows)
                Outbox.update(attempts=Outbox.attempts + 1).where(Outbox.id.in_(ids)).execute()
                return
            if result.status == RETRY and now - head.created_at < self.retry_for:
                delay = (
                    result.retry_after
                    if result.retry_after is not None
                    else min(self.max_backoff, 0.5 * 2**head.attempts)
                )
                if out is not None and result.retry_after is None:  # the platform failed, not a limit
                    with self._failing_lock:
                        self.failing.setdefault(out.channel, set()).add(lane)
                until = now + delay
                # parts_sent counts every part delivered so far (skipped ones included)
                parts = head.parts_sent if prestep else max(head.parts_sent, result.parts_sent or 0)
                Outbox.update(
                    attempts=Outbox.attempts + 1,
                    next_attempt_at=until,
                    parts_sent=parts,
                    reason="retrying",
                    detail=(result.detail or "")[:2000],
                ).where(Outbox.id.in_(ids)).execute()
                # later messages in the same lane wait too, so nothing overtakes
                Outbox.update(next_attempt_at=until).where(
                    (Outbox.destination == lane) & (Outbox.status == "pending") & (Outbox.next_attempt_at < until)
                ).execute()
                self.lane_wait[lane] = time.monotonic() + delay
                log.info(
                    "send retry in %.1fs lane=%s outbox=%s (%s)",
                    delay,
                    lane.split(":")[0],
                    ids,
                    result.detail[:200] if result.detail else "",
                )
                return
            if result.status == RETRY:
                result = SendResult.failed("retry_budget", result.detail)
            status = GONE if result.status == GONE else FAILED
            Outbox.update(
                status=status,
                sent_at=now,
                reason=result.reason,
                detail=(result.detail or "")[:2000],
                attempts=Outbox.attempts + 1,
            ).where(Outbox.id.in_(ids)).execute()
            hooks.business().undeliverable(rows, result)

    def _platform_back(self, channel: str) -> None:
        """A send on a failing channel succeeded: the lanes that waited for the platform may go now
        (inside the caller's transaction), so the next rounds take them in priority order — customers'
        replies before bulk — instead of in the order their backoffs happen to end."""
        with self._failing_lock:
            lanes = sorted(self.failing.get(channel) or ())
        if not lanes:
            return
        now = time.time()
        for i in range(0, len(lanes), 500):
            Outbox.update(next_attempt_at=now).where(
                (Outbox.destination.in_(lanes[i : i + 500]))
                & (Outbox.status == "pending")
                & (Outbox.next_attempt_at > now)
            ).execute()
        # the channel stops "failing" (one probe at a time) only once the rows above are committed: a round in
        # between would find only the never-tried bulk rows due, and send those before the customers' replies
        after_commit(lambda: self._failing_over(channel, lanes))
        log.info("%s is back: %d waiting destination(s) retried now, in priority order", channel, len(lanes))

    def _failing_over(self, channel: str, lanes: list[str]) -> None:
        with self._failing_lock:
            waiting = self.failing.get(channel)
            if waiting is not None:
                waiting.difference_update(lanes)
                if not waiting:
                    del self.failing[channel]
        for lane in lanes:
            self.lane_wait.pop(lane, None)

    # ---- start-up checks ------------------------------------------------------------------------
    async def _startup_checks(self) -> None:
        assert self.telegram is not None, "spawned only with a configured bot"
        try:
            me = await self.telegram.get_me()
            await self._db(_note_username, me.get("username"))
            if not me.get("can_read_all_group_messages"):
                log.warning(
                    "telegram: privacy mode is on — the bot sees only commands and replies to it in the "
                    "agents' group; make it an admin or turn privacy off in @BotFather, then re-add it"
                )
            group = agents_chat_id_safe()
            if group:
                chat = await self.telegram.get_chat(group)
                await self._db(_note_forum, bool(chat.get("is_forum")))
        except Exception as exc:
            log.warning("telegram start-up check failed: %r", exc)


def _mark_sent(rows, out, result: SendResult, now: float) -> None:
    """Rows that went through: sent, with the platform's ids (inside the caller's transaction)."""
    Outbox.update(status="sent", sent_at=now, message_ids=result.message_ids, attempts=Outbox.attempts + 1).where(
        Outbox.id.in_([r.id for r in rows])
    ).execute()
    hooks.business().sent(rows, out, result)


def _released(fn_, args):
    """Run a database function in the pool, then hand its connection back (PostgreSQL pool)."""
    try:
        return fn_(*args)
    finally:
        release()


def agents_group_known() -> bool:
    return bool(agents_chat_id_safe())


def agents_chat_id_safe() -> int:
    try:
        return hooks.business().agents_chat_id()
    except Exception:
        return 0
    finally:
        release()


def _note_username(username: str | None) -> None:
    with write():
        hooks.business().bot_username(username)


def _note_forum(is_forum: bool) -> None:
    with write():
        hooks.business().topics_possible(is_forum)


def backlog() -> dict:
    """Pending rows and the age of the oldest, for health checks and benchmarks."""
    row = (
        Outbox.select(fn.COUNT(Outbox.id), fn.MIN(Outbox.created_at)).where(Outbox.status == "pending").tuples().first()
    )
    count, oldest = row if row else (0, None)
    return {"pending": count, "oldest_age_s": round(time.time() - oldest, 3) if oldest else 0.0}
