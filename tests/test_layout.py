"""House rules that keep the layout honest."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB_MODULES = ("fastapi", "starlette", "uvicorn", "gateway")
WEB_FRAMEWORKS = ("fastapi", "starlette")

# Where FastAPI/Starlette may be imported: the HTTP edge, the routes, the app that assembles them
# and the pipeline that turns a Starlette request into a response. Two more, each for one reason:
# errors.py renders a GatewayError as its response (the one place errors become JSON).
WEB_ALLOWED = (
    "gateway/http/",
    "gateway/api/",
    "gateway/app.py",
    "gateway/pipeline.py",
    "gateway/errors.py",
    "gateway/console/",  # the console's pages are web routes of their own
)
# The layers below the routes: what they import must never reach back up to a route or command.
LOWER_LAYERS = ("gateway/http", "gateway/steps", "gateway/routing", "gateway/backends")
UPPER_MODULES = ("gateway.api", "gateway.cli", "gateway.app")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # ``from gateway import api`` imports gateway.api: count the names as modules too.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def python_files(*folders: str) -> list[Path]:
    """Every module under ``folders``; a folder that is missing or empty fails the test, so a
    rule can never pass because its folder was moved away."""
    paths: list[Path] = []
    for folder in folders:
        found = sorted((ROOT / folder).rglob("*.py"))
        assert found, f"{folder} holds no module"
        paths.extend(found)
    return paths


def is_within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


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
            if path.name == "settings.py":
                continue
            text = path.read_text(encoding="utf-8")
            if "os.environ" in text or "os.getenv" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_only_the_web_layer_imports_fastapi_or_starlette() -> None:
    offenders = []
    for path in python_files("gateway"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(WEB_ALLOWED):
            continue
        for name in imported_modules(path):
            if is_within(name, WEB_FRAMEWORKS):
                offenders.append(f"{relative} imports {name}")
    assert offenders == []


def test_layers_below_the_routes_never_import_routes_or_commands() -> None:
    offenders = []
    for path in python_files(*LOWER_LAYERS):
        for name in imported_modules(path):
            if is_within(name, UPPER_MODULES):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_quota_counters_never_touch_the_database() -> None:
    """The counters live in Redis or memory; limits are read from the database by billing/limits."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files("billing/quotas")
        for name in imported_modules(path)
        if is_within(name, ("sqlalchemy", "billing.db", "billing.limits", "billing.ledger"))
    ]
    assert offenders == []


def test_the_gateway_has_no_flat_module_families() -> None:
    """Prefixes such as ``routes_`` or ``ledger_`` are folders in disguise: they belong in one."""
    prefixes = ("routes_", "cli_", "provider_", "ledger_", "quota_", "statement_", "report_")
    offenders = [
        path.name
        for package in ("gateway", "billing")
        for path in sorted((ROOT / package).glob("*.py"))
        if path.name.startswith(prefixes)
    ]
    assert offenders == []


def module_level_imports(path: Path) -> set[str]:
    """The modules imported when ``path`` is imported (not those imported inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.If | ast.Try | ast.With):
            is_type_checking = isinstance(node, ast.If) and ast.unparse(node.test) in (
                "TYPE_CHECKING",
                "typing.TYPE_CHECKING",
            )
            if not is_type_checking:
                pending.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)
    return names


def test_the_simulator_is_outside_the_gateway() -> None:
    """The simulated vLLM is test and demo infrastructure: its own distribution, out of the
    gateway's wheel, imported only by the demo command and only when that command runs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert (
        "hygie_simulator" not in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    )
    assert not (ROOT / "gateway" / "simulator").exists()
    offenders = []
    for package in ("gateway", "billing", "policies"):
        for path in python_files(package):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "gateway/cli/demo.py":
                eager = module_level_imports(path)
            else:
                eager = imported_modules(path)
            offenders += [
                f"{relative} imports {n}" for n in eager if is_within(n, ("hygie_simulator",))
            ]
    assert offenders == []


def test_the_simulator_never_imports_the_gateway() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files("simulator/hygie_simulator")
        for name in imported_modules(path)
        if is_within(name, ("gateway", "billing", "policies"))
    ]
    assert offenders == []
