"""House rules that keep the layout honest."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB_MODULES = ("fastapi", "starlette", "uvicorn", "gateway")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domains_never_import_the_web_layer() -> None:
    offenders = []
    for package in ("billing", "policies"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in imported_modules(path):
                if name.split(".")[0] in WEB_MODULES:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_environment_is_read_only_in_settings() -> None:
    offenders = []
    for package in ("gateway", "billing", "policies"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "settings.py" or "simulator" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if "os.environ" in text or "os.getenv" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
