"""The import layers of docs/architecture.md hold, and the check that keeps them (import-linter's
``lint-imports``, run by .ci/run) fails when someone brings a cycle back.

Each deliberate cycle is written into a copy of the package, inside a function (an import in a
function body counts as much as one at the top), and the real configuration is run on it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT), str(cwd / "pyproject.toml"), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_layers_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (file of the copy, import added inside a new function): each is one of the cycles issue 8 found,
# in the direction the layers forbid, or a view reaching into another blueprint's views.
CYCLES = [
    ("portal/jobs.py", "from portal.pushes import services"),                # jobs <-> pushes
    ("portal/audit/services.py", "from portal.org.models import User"),      # org <-> audit
    ("portal/security.py", "from portal.org.scope import scope_for"),        # org <-> security
    ("portal/web.py", "from portal.org import roles"),                       # org <-> web
    ("portal/web.py", "from portal.pushes import labels"),                   # pushes <-> web
    ("portal/web.py", "from portal.decoration.labels import BLOCK_LABELS"),  # decoration <-> web
    ("portal/goods/services.py", "from portal.shelf.prices import clamp_listings"),  # goods <-> shelf
    ("portal/org/services.py", "from portal.campaigns import services"),     # a domain above org
    ("portal/decoration/views.py", "from portal.targets.views import list_targets"),  # another blueprint's view
]


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    dest = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "portal", dest / "portal", ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


@pytest.mark.parametrize(("path", "statement"), CYCLES, ids=[f"{p}:{s.split()[1]}" for p, s in CYCLES])
def test_a_deliberate_cycle_fails_the_check(copy, path, statement):
    target = copy / path
    original = target.read_text(encoding="utf-8")
    target.write_text(original + f"\n\ndef _deliberate_cycle():\n    {statement}  # noqa\n", encoding="utf-8")
    try:
        result = _lint(copy)
    finally:
        target.write_text(original, encoding="utf-8")
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout and statement.split()[1] in result.stdout


def test_views_leave_the_audit_log_to_the_services():
    """The service that makes a change records it (issue 8, point 3): no view writes an audit entry."""
    import ast

    writers = []
    for path in sorted((ROOT / "portal").rglob("*views.py")) + sorted((ROOT / "portal" / "core").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record":
                writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writers == []
