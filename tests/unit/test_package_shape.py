"""The package's shape, whole: no module imports one that imports it back (type-only imports and imports
inside functions included), no module is over 500 lines, and ``import finetune_sdk`` or a first request
loads none of the heavy parts (the data side, the CLI, the emulator, rich)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "finetune_sdk"
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module of the SDK that ``path`` names in an import, wherever the import stands."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("finetune_sdk")}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
            if not target.startswith("finetune_sdk"):
                continue
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}  # ``from . import _figures``
    return found


def graph() -> dict[str, set[str]]:
    """Who imports whom. A package's ``__init__`` that names its own modules re-exports them (they are
    its parts, not what it stands on): those edges are left out, its imports from elsewhere kept."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = imports(path) & modules.keys()
        if path.name == "__init__.py":
            targets = {t for t in targets if not t.startswith(f"{name}.")}
        edges[name] = targets - {name}
    return edges


def cycle_through(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from ``start`` back to itself, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for following in sorted(edges.get(node, ())):
            if following == start:
                return [*path, start]
            if following not in seen:
                seen.add(following)
                stack.append((following, [*path, following]))
    return None


def test_no_module_is_part_of_an_import_cycle() -> None:
    edges = graph()
    cycles = {name: cycle_through(name, edges) for name in edges}
    assert {name: cycle for name, cycle in cycles.items() if cycle} == {}


def test_the_cycle_finder_finds_one() -> None:
    assert cycle_through("a", {"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_through("a", {"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_import_reader_sees_type_only_and_function_imports() -> None:
    edges = graph()
    assert "finetune_sdk.evaluate._figures" in edges["finetune_sdk.evaluate._comparison"]  # in a function
    assert "finetune_sdk.data.dataset" in edges["finetune_sdk._core.checks"]  # TYPE_CHECKING


def test_no_module_is_over_500_lines() -> None:
    lengths = {module_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def _loaded_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(out.split())


HEAVY = ("finetune_sdk.data", "finetune_sdk.cli", "finetune_sdk.emulator", "finetune_sdk.evaluate", "rich")


@pytest.mark.parametrize(
    "code",
    [
        "import finetune_sdk",
        "import finetune_sdk\nc = finetune_sdk.Client(api_key='k', base_url='http://127.0.0.1:9/v1')\n"
        "c.jobs, c.files, c.chat, c.checkpoints",
        "import finetune_sdk\nc = finetune_sdk.AsyncClient(api_key='k', base_url='http://127.0.0.1:9/v1')\n"
        "c.jobs, c.files, c.chat, c.checkpoints",
    ],
    ids=["import", "client", "async client"],
)
def test_the_client_loads_none_of_the_heavy_parts(code: str) -> None:
    loaded = _loaded_after(code)
    # rich may come in with httpx (its command line, when rich is installed): only ours count.
    ours = {name for name in loaded if name.startswith("finetune_sdk")}
    assert {name for name in ours if name.startswith(HEAVY[:4])} == set()


_ONE_ANSWER = """
import http.server, threading
import finetune_sdk

class Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"object": "list", "data": [], "has_more": false}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_address[1]}/v1"
with finetune_sdk.Client(api_key="k", base_url=base, max_retries=0) as client:
    assert list(client.files.list()) == []
"""


def test_a_sync_clients_first_answer_loads_no_event_loop_library() -> None:
    # A program that never runs asyncio need not pay for importing it (about 12 ms of a cold start).
    loaded = _loaded_after(_ONE_ANSWER)
    assert "finetune_sdk._transport.transport" in loaded
    assert "asyncio" not in loaded or "asyncio" in _loaded_after("import httpx, httpcore, pydantic, tenacity")


def test_the_command_lines_help_loads_no_client_data_or_rich() -> None:
    code = "import contextlib, io\nfrom finetune_sdk.cli._app import run\n"
    code += "with contextlib.redirect_stdout(io.StringIO()): run(['--help'])"
    loaded = _loaded_after(code)
    heavy = ("finetune_sdk._client", "finetune_sdk.data", "finetune_sdk.evaluate", "finetune_sdk.emulator")
    assert {name for name in loaded if name.startswith(heavy)} == set()
    assert "rich" not in loaded and "httpx" not in loaded and "pydantic" not in loaded
