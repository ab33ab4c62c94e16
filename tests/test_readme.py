"""README stays the short front door issue 11 asked for: at most 150 lines, a quick start of exactly two commands
(`bin/run`, `bin/test`), and every docs/ link pointing at a file that exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_is_at_most_150_lines():
    assert len(README.splitlines()) <= 150


def test_the_quick_start_is_two_commands():
    quick = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["bin/run", "bin/test"]
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec bin/test")


def test_every_docs_link_in_readme_exists():
    links = set(re.findall(r"\]\((docs/[^)#]+)", README)) | set(re.findall(r'src="(docs/[^"]+)"', README))
    assert links, "README links to docs/"
    assert [link for link in links if not (ROOT / link).exists()] == []
