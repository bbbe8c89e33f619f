"""The repository stands alone: nothing in it reads anything outside it.

(a) Every git-tracked text file is scanned for paths that leave the repository: the private
    folder that sits beside the repository on the developers' machines, absolute paths of those
    machines, climbs from a ``…ROOT`` constant to its parent, ``Path(__file__).parents[N]``
    beyond the root, and relative ``../`` paths that climb above the root from the file's own
    folder. A finding names file and line.
(b) A clone of the current commit into an empty temporary folder (nothing beside it) runs the
    tests that read COINr's ASEM example from ``data/examples/asem``; they must pass there, none
    skipped. Only committed files are in the clone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Each pattern is written so that its own source text does not match it (this file is scanned too).
LEAVING = {
    "the private folder beside the repository": re.compile(r"\.\./shared\b"),
    "a path built from the folder name 'shared'": re.compile(r"""["']shared["']\s*/"""),
    "an absolute path of the developers' machines": re.compile(r"(?<![\w.:/-])/wor[k]/"),
    "the folder above the repository root": re.compile(r"\b\w*ROOT\.parent\b"),
}
PARENTS_INDEX = re.compile(r"__file__\)(?:\.resolve\(\))?\.parents\[(\d+)\]")
PARENT_CHAIN = re.compile(r"__file__\)(?:\.resolve\(\))?((?:\.parent)+)\b")
RELATIVE_UP = re.compile(r"(?<![\w.])((?:\.\./)+)([\w./-]*)")
# Relative links that are not paths of this repository: file → the exact text, and why.
NOT_REPOSITORY_PATHS = {
    # a link inside a generated report page, relative to that page (out/<year>/don-vi/)
    "tests/test_report.py": "../" * 2 + "assets/plotly.min.js",
}


def tracked_files(root: Path) -> list[Path]:
    """The files git tracks in ``root`` (what a clone holds)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout
    return [root / name for name in listed.decode("utf-8").split("\0") if name]


def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file (NUL bytes or not UTF-8)."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def leaving_paths(path: Path, text: str, root: Path) -> list[str]:
    """``file:line: what`` for every reference in ``text`` that leaves ``root``."""
    relative = path.relative_to(root)
    depth = len(relative.parts) - 1  # folders between the root and the file
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{relative}:{number}"
        for what, pattern in LEAVING.items():
            if pattern.search(line):
                findings.append(f"{where}: {what}: {line.strip()}")
        for match in PARENTS_INDEX.finditer(line):
            if int(match.group(1)) > depth:
                findings.append(f"{where}: parents[{match.group(1)}] is above the root")
        for match in PARENT_CHAIN.finditer(line):
            if match.group(1).count(".parent") > depth + 1:
                findings.append(f"{where}: {match.group(0)} is above the root")
        for match in RELATIVE_UP.finditer(line):
            if NOT_REPOSITORY_PATHS.get(str(relative)) == match.group(0):
                continue
            target = (path.parent / match.group(1) / match.group(2)).resolve()
            if not target.is_relative_to(root):
                findings.append(f"{where}: {match.group(0)} climbs above the root")
    return findings


def scan(root: Path, files: list[Path]) -> list[str]:
    """Every finding of :func:`leaving_paths` in ``files`` (binary files skipped)."""
    findings = []
    for path in files:
        if not path.is_file():  # tracked, deleted in the working tree: nothing to read
            continue
        text = text_of(path)
        if text is not None:
            findings.extend(leaving_paths(path, text, root))
    return findings


def test_no_tracked_file_reaches_outside_the_repository():
    findings = scan(REPO_ROOT, tracked_files(REPO_ROOT))
    assert findings == [], "paths that leave the repository:\n" + "\n".join(findings)


def test_the_scan_finds_each_kind_of_escape(tmp_path):
    """The scanner itself: each kind of escape is found, with file and line; paths inside pass."""
    # the escapes are assembled at run time so that this file's own text does not contain them
    up, here = ".." + "/", "Path(__file__)"
    (tmp_path / "docs").mkdir()
    (tmp_path / "pkg").mkdir()
    code = [
        "from pathlib import Path",
        f"A = Path('{up}shared/data')",
        f"B = {here}.resolve().parents[1]",
        f"C = {here}.resolve().parents[{2}]",
        "D = REPO_ROOT" + ".parent / 'x'",
        "E = Path('" + "/wo" + "rk/main/data')",
        f"F = {here}" + ".parent" * 3,
        "G = ROOT / " + '"sha' + 'red" / "data"',
    ]
    lines = {
        "docs/a.md": f"fine\nsee [x]({up}README.md)\nsee {up}{up}elsewhere/notes.md\n",
        "pkg/b.py": "\n".join(code) + "\n",
    }
    for name, text in lines.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = scan(tmp_path, [tmp_path / name for name in lines])
    where = sorted(f.split(": ")[0] for f in found)
    assert where == [
        "docs/a.md:3",
        "pkg/b.py:2",
        "pkg/b.py:4",
        "pkg/b.py:5",
        "pkg/b.py:6",
        "pkg/b.py:7",
        "pkg/b.py:8",
    ]


def test_a_fresh_clone_alone_runs_the_asem_tests(tmp_path):
    """Clone HEAD into an empty folder and run the ASEM tests there with this interpreter."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    clone = tmp_path / "dti"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", str(REPO_ROOT), str(clone)], check=True
    )
    subprocess.run(["git", "checkout", "--quiet", "--detach", head], cwd=clone, check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dti"]  # nothing beside the clone

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DTI_", "PYTEST_"))}
    env["PYTHONPATH"] = str(clone)
    env["DTI_HOME"] = str(tmp_path / "home")
    where = subprocess.run(
        [sys.executable, "-c", "from pipelines.analysis.inputs import asem_dir; print(asem_dir())"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where) == clone / "data" / "examples" / "asem"

    # the README's `dti score` example on ASEM (console script, every method) and iMeta loading
    tests = [f"{clone}/tests/test_cli_score.py", f"{clone}/tests/test_framework_loading.py"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *tests, "-k", "asem", "-q", "-p", "no:cacheprovider"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", summary), summary
    assert not re.search(r"skipped|failed|error", summary), summary
