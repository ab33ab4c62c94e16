"""How well the FAQ matcher answers: precision, recall and false-answer rate on the labelled questions
(tests/data/faq_questions.csv: question, expected answer key or empty for "must not be answered", lang).

    .venv/bin/python bench/faq.py                 # figures with the settings' thresholds
    .venv/bin/python bench/faq.py --errors        # and every mistake
    .venv/bin/python bench/faq.py --sweep         # thresholds tried on the tuning half (even rows)

precision: right answers / answers given · recall: right answers / answerable questions ·
false-answer rate: answered / questions that must not be answered.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import config  # noqa: E402
from handlers.features import faq  # noqa: E402

DATA = ROOT / "tests" / "data" / "faq_questions.csv"
FRESH = ROOT / "tests" / "data" / "faq_questions_fresh.csv"  # written after the tuning, never tuned on
LANGS = {"en": "English", "roman": "Roman Urdu", "ur": "Urdu script"}


def labelled(path: Path = DATA) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for index, row in enumerate(rows):
        row["half"] = "tune" if index % 2 == 0 else "check"
    return rows


def run(rows: list[dict], **thresholds) -> list[dict]:
    """Each row with what the matcher did: given (key or None) and the Match."""
    known = faq.load()
    for row in rows:
        row["match"] = faq.match(row["question"], known, **thresholds)
        row["given"] = row["match"].key
    return rows


def figures(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["expected"]]
    not_answerable = [r for r in rows if not r["expected"]]
    given = [r for r in rows if r["given"]]
    right = [r for r in answerable if r["given"] == r["expected"]]
    wrong = [r for r in answerable if r["given"] and r["given"] != r["expected"]]
    false = [r for r in not_answerable if r["given"]]
    return dict(
        n=len(rows),
        answerable=len(answerable),
        not_answerable=len(not_answerable),
        precision=len(right) / len(given) if given else 1.0,
        recall=len(right) / len(answerable) if answerable else 1.0,
        wrong=len(wrong) / len(answerable) if answerable else 0.0,
        false_rate=len(false) / len(not_answerable) if not_answerable else 0.0,
        false=len(false),
        right=len(right),
    )


def line(name: str, f: dict) -> str:
    return (
        f"{name:<14} {f['n']:>4} ({f['answerable']:>3} answerable, {f['not_answerable']:>3} not)   "
        f"precision {f['precision']:6.1%}   recall {f['recall']:6.1%}   wrong key {f['wrong']:5.1%}   "
        f"false answers {f['false_rate']:5.1%} ({f['false']})"
    )


def report(rows: list[dict]) -> None:
    print(line("all", figures(rows)))
    for half in ("tune", "check"):
        print(line(f"{half} half", figures([r for r in rows if r["half"] == half])))
    for code, name in LANGS.items():
        print(line(name, figures([r for r in rows if r["lang"] == code])))


def errors(rows: list[dict]) -> None:
    for r in rows:
        if (r["given"] or "") != r["expected"]:
            m = r["match"]
            print(
                f"  [{r['lang']:<5}] {r['question']!r}: expected {r['expected'] or '—'}, gave {r['given'] or '—'} "
                f"({m.reason}; best {m.best} {m.score:.2f}, second {m.second} {m.second_score:.2f}, "
                f"coverage {m.coverage:.2f}, explained {m.explained:.2f})"
            )


def sweep(rows: list[dict]) -> None:
    tune = [r for r in rows if r["half"] == "tune"]
    results = []
    known = faq.load()
    cache = {r["question"]: known.scores(r["question"]) for r in tune}  # scores do not depend on thresholds
    known.scores = cache.__getitem__
    for values in itertools.product(
        [0.4, 0.45, 0.5, 0.55, 0.6], [0.04, 0.06, 0.08, 0.1, 0.12], [0.5, 0.6, 0.7], [0.5, 0.55, 0.6, 0.65]
    ):
        thresholds = dict(zip(("threshold", "margin", "min_coverage", "min_explained"), values, strict=False))
        f = figures(run([dict(r) for r in tune], **thresholds))
        results.append((f["false_rate"] < 0.02, f["recall"] - 2 * f["wrong"], values, f))
    results.sort(key=lambda x: (x[0], x[1]), reverse=True)
    for _ok, _, values, f in results[:10]:
        print(
            "threshold {:.2f} margin {:.2f} coverage {:.2f} explained {:.2f}: ".format(*values) + line("tune half", f)
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every question the matcher got wrong")
    parser.add_argument("--sweep", action="store_true", help="try thresholds on the tuning half")
    args = parser.parse_args(argv)
    config.activate(config.load(environ={}))
    rows = labelled()
    if args.sweep:
        sweep(rows)
        return
    conf = config.current()["selfservice"]
    started = time.perf_counter()
    run(rows)
    took = (time.perf_counter() - started) / len(rows) * 1000
    print(
        f"FAQ matcher on {DATA.relative_to(ROOT)}: threshold {conf['threshold']}, margin {conf['margin']}, "
        f"min coverage {conf['min_coverage']}, min explained {conf['min_explained']}; "
        f"{len(faq.load().entries)} answers; {took:.2f} ms a question"
    )
    report(rows)
    fresh = run(labelled(FRESH))
    print(line("fresh set", figures(fresh)) + f"   ({FRESH.relative_to(ROOT)}: written after tuning)")
    if args.errors:
        errors(rows)
        print("fresh set:")
        errors(fresh)


if __name__ == "__main__":
    main()
