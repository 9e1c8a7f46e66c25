"""The README and docs/ are what a newcomer reads, and the code points into them: `(README, "Calls that pulse")`,
`docs/throughput.md "Start-up"`. When a section moves or is renamed, those pointers must follow it."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# README or docs/NAME.md, then maybe "'s" and a comma or bracket, then the quoted section name
REFERENCE = re.compile(r'(README|docs/[\w.-]+\.md)(?:\'s)?,?\s*\(?\s*"([^"\n]+)"')
LINK = re.compile(r"\]\((docs/[^)\s]+)\)")


def anchors(text: str) -> list[str]:
    """What a reference may name: headings, and the bold words that open a paragraph or a list item (outside code
    blocks, whose '# ...' lines are shell comments)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    headings = [re.sub(r"^#+\s*", "", line).strip() for line in text.splitlines() if re.match(r"^#{1,5} \S", line)]
    return headings + [bold.rstrip(".") for bold in re.findall(r"\*\*([^*\n]+?)\*\*", text)]


def names_a_section(name: str, text: str) -> bool:
    """`name` opens a heading or bold lead of `text` ("Start-up" names "Start-up, and GPU options"); "A: B" names
    section B inside A ("Other datasets: Results")."""
    known = [a.lower() for a in anchors(text)]
    opens = lambda part: any(a.startswith(part.strip().lower()) for a in known)  # noqa: E731
    return opens(name) or (":" in name and all(map(opens, name.split(":", 1))))


def sources():
    """The project's code and prose, pruning what it writes or installs (runs/, demo/, data/, the venvs)."""
    for folder, subfolders, files in os.walk(ROOT):
        here = Path(folder)
        if here == ROOT:
            subfolders[:] = [s for s in subfolders if not s.startswith(".") and s not in ("runs", "data", "demo")]
        subfolders[:] = [s for s in subfolders if s != "__pycache__"]
        for name in sorted(files):
            path = here / name
            if (path.suffix in (".py", ".md") or name == "Makefile") and path != Path(__file__):
                yield path


def test_every_reference_to_a_section_names_one_that_exists():
    broken = []
    for path in sources():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in REFERENCE.finditer(line):
                target = ROOT / ("README.md" if match.group(1) == "README" else match.group(1))
                if not target.exists() or not names_a_section(match.group(2), target.read_text()):
                    broken.append(f'{path.relative_to(ROOT)}:{number}: {match.group(1)} "{match.group(2)}"')
    assert not broken, "references to sections that do not exist:\n" + "\n".join(broken)


def test_the_readme_links_to_docs_that_exist():
    links = LINK.findall((ROOT / "README.md").read_text())
    assert "docs/not-a-call.md" in links and "docs/throughput.md" in links
    assert all((ROOT / link).exists() for link in links), links


def test_the_checker_finds_a_missing_section():
    text = "# Title\n\n## Calls that pulse\n\n**Where the defaults stand.** ...\n"
    assert names_a_section("Calls that pulse", text) and names_a_section("Where the defaults stand", text)
    assert names_a_section("Title: Calls that", text)
    assert not names_a_section("Calls that hum", text) and not names_a_section("Title: Calls that hum", text)
    assert REFERENCE.search('counted (README, "Calls that pulse").').groups() == ("README", "Calls that pulse")
    assert REFERENCE.search('see docs/throughput.md "Start-up"').groups() == ("docs/throughput.md", "Start-up")
