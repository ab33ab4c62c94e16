"""The FAQ matcher end to end through the webhooks: a question written in English, Roman Urdu or Urdu script,
with a product, a condition or a city in it, gets the shop's answer on Telegram, WhatsApp and SMS; a complaint
phrased as a question goes to a person (a ticket, the agents' card), never an answer."""

import subprocess
import sys

import pytest

from db.models import FaqLog, Ticket
from tests.helpers import ROOT, base_env, card_of, eventually

WA = "+923001234567"
SMS_NO = "+923331112222"

# (question, answer key, words of the English answer, words of the Urdu answer)
QUESTIONS = {
    "en": ("does the air fryer come with a warranty", "warranty", "brand's warranty", "کمپنی کی وارنٹی"),
    "roman": ("agar aaj order karun to sukkur kab tak milega", "delivery_time", "working days", "کاروباری دنوں"),
    "ur": ("کیا گوجرانوالہ میں کیش آن ڈیلیوری ہے", "cash_on_delivery", "Rs. 50,000", "50,000 روپے"),
}
COMPLAINT = "why is my refund not here after 2 weeks"


def ask(k, channel: str, text: str) -> list[str]:
    """Send TEXT as a new customer on CHANNEL; what reached that customer, once something did."""
    if channel == "telegram":
        k.tg_message(41, text, first_name="Hina")
        return [m["text"] for m in k.wait_chat(41)]
    address = f"whatsapp:{WA}" if channel == "whatsapp" else SMS_NO
    k.whatsapp(WA, text) if channel == "whatsapp" else k.sms(SMS_NO, text)
    return [m["body"] for m in k.wait_twilio(address)]


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "sms"])
@pytest.mark.parametrize("writing", ["en", "roman", "ur"])
def test_a_question_in_each_way_of_writing_gets_its_answer_on_each_channel(khidmat, channel, writing):
    question, key, english, urdu = QUESTIONS[writing]
    reply = ask(khidmat, channel, question)[0]
    assert english in reply or urdu in reply, reply
    eventually(lambda: FaqLog.select().where(FaqLog.answer_key == key).count() == 1, what="the answer logged")
    assert Ticket.select().count() == 0 and khidmat.group() == []


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "sms"])
def test_a_complaint_phrased_as_a_question_goes_to_a_person(khidmat, channel):
    reply = ask(khidmat, channel, COMPLAINT)[0]
    assert "#1001" in reply and "Rs." not in reply
    assert COMPLAINT in card_of(khidmat, 1001)["text"]
    assert Ticket.select().count() == 1
    assert FaqLog.select().where(FaqLog.answer_key.is_null(False)).count() == 0


def test_faq_test_as_a_shop_runs_it(db_url):
    """`flask --app webhook faq test` in its own process: the three best, the bands and the verdict."""
    env = base_env(db_url)

    def faq_test(*args):
        flask = [sys.executable, "-m", "flask", "--app", "webhook", "faq", "test", *args]
        return subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    answered = faq_test("agar aaj order karun to sukkur kab tak milega")
    assert answered.returncode == 0, answered.stderr
    ranked = [line.split()[1] for line in answered.stdout.splitlines() if line.startswith(("  1.", "  2.", "  3."))]
    assert len(ranked) == 3 and ranked[0] == "delivery_time"
    assert "Bands: answer from 0.50" in answered.stdout and "unsure 0.35–0.50" in answered.stdout
    assert "Verdict: ANSWER delivery_time" in answered.stdout and "کاروباری دنوں" in answered.stdout
    unsure = faq_test("can i return undergarments")
    assert unsure.returncode == 0 and "Verdict: UNSURE" in unsure.stdout
    assert "of [return_policy] in templates/en/faq.toml" in unsure.stdout
    complaint = faq_test(COMPLAINT)
    assert "  1. refund_process" in complaint.stdout  # the scores are shown, the answer is not given
    assert "Verdict: NO ANSWER — it reads as a complaint: a person answers." in complaint.stdout
    missing = faq_test()
    assert missing.returncode != 0 and "Missing argument 'QUESTION'" in missing.stderr
