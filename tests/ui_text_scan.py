"""A static check of the UI code (app.py, pages/, components/): every argument that Streamlit reads
as Markdown must be provably inert, so text from a patient or the EHR can never become a link, an
image fetch, coloured text or an icon.

An argument is inert when it is built only from
- literals (and module constants whose value is literals, also when imported from another module),
- numbers and dates put into an f-string with a numeric or date format spec (``{n:d}``, ``{x:.0%}``,
  ``{day:%d %b}``: such a spec raises on a string, so no text can hide there),
- the date and number formatters in FORMATTERS, and same-module helpers whose every ``return`` is
  inert,
- ``md_literal(...)`` (components/plain_text.py), which escapes anything,
joined by +, %, f-strings, ``if ... else``, ``or``/``and``, ``.lower()``-style string methods
and ``"sep".join(...)``. A local name is inert when every assignment to it in its function (or
module) is. ``getattr(st, kind)(...)`` (an unknown Streamlit call) and ``st.table`` (Markdown in
every cell) are refused; ``unsafe_allow_html`` and ``st.html`` too.
"""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
UI_FILES += sorted((ROOT / "components").glob("*.py"))

ESCAPER = "md_literal"
# Date/time and number formatting: they return digits, month names and fixed words only.
FORMATTERS = {
    "format_date": "portal/timefmt.py: strftime of a date",
    "format_day": "portal/timefmt.py: strftime of a date",
    "format_time": "portal/timefmt.py: strftime of a time",
    "format_clock": "portal/timefmt.py: strftime of a time",
    "format_datetime": "portal/timefmt.py: strftime of a datetime",
    "when": "portal/services/scheduling/notices.py: timefmt.format_datetime of a visit's start",
    "len": "a count",
    "sum": "a count (of numbers)",
    "round": "a number",
    "int": "a number",
    "float": "a number",
}
# The operator's configuration (environment / .env), not patient or EHR text.
CONFIG = {"get_settings"}
STRING_METHODS = {"lower", "upper", "capitalize", "title", "strip", "rstrip", "lstrip"}

# Streamlit calls whose positional / keyword arguments are Markdown. "*" = every positional one.
MARKDOWN_BODY = {
    name: ("*", "body")
    for name in (
        "markdown",
        "write",
        "caption",
        "title",
        "header",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
        "toast",
    )
}
LABELLED = [
    "expander",
    "popover",
    "status",
    "spinner",
    "button",
    "download_button",
    "link_button",
    "form_submit_button",
    "checkbox",
    "toggle",
    "text_input",
    "text_area",
    "number_input",
    "date_input",
    "time_input",
    "datetime_input",
    "file_uploader",
    "camera_input",
    "audio_input",
    "color_picker",
    "slider",
    "select_slider",
    "selectbox",
    "multiselect",
    "radio",
    "segmented_control",
    "pills",
    "feedback",
    "dialog",
]
MARKDOWN_ARGS: dict[str, tuple] = {
    **MARKDOWN_BODY,
    **{name: (0, "label") for name in LABELLED},
    "page_link": ("label",),
    "metric": (0, 1, 2, "label", "value", "delta"),
    "tabs": (0, "tabs"),
    "progress": (1, "text"),
}
# Widgets that draw their *options* as Markdown (select boxes and multiselects draw plain text).
MARKDOWN_OPTIONS = {"radio", "select_slider", "segmented_control", "pills"}
REFUSED_CALLS = {
    "table": "st.table renders Markdown in every cell: use st.dataframe",
    "html": "st.html renders HTML",
}
# Receivers that are not Streamlit (logging has .error/.warning/.info too).
NOT_STREAMLIT = {"logger", "log", "logging", "warnings", "parser", "self"}

# The allow-list: (file, line text stripped) -> why it is safe although the scan cannot prove it.
ALLOWED: dict[tuple[str, str], str] = {
    ("components/browser_cookie.py", "st.html(markup, unsafe_allow_javascript=True)"): (
        "writes the login cookie: the script holds only the cookie name (settings) and the "
        "portal's own signed session token, JSON-encoded; no patient or EHR text"
    ),
    ("components/login.py", "st.info(notice)"): (
        "the sign-in screen's own notices (keys.LOGIN_NOTICE), written in components/login.py"
    ),
    ("components/login.py", "st.error(error)"): (
        "the sign-in screen's own refusals (keys.LOGIN_ERROR), written in components/login.py"
    ),
}


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    call: str
    source: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.call}: {self.source}"


def _numeric_or_date_spec(spec: ast.JoinedStr | None) -> bool:
    if spec is None:
        return False
    text = "".join(v.value for v in spec.values if isinstance(v, ast.Constant))
    return bool(re.search(r"[bcdeEfFgGnoxX%,_]", text.replace("%%", "")))


def _literal_structure(node: ast.AST) -> bool:
    """A value made only of literals: "x", 3, ("a", "b"), {"k": "v"}, [...]."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(
            isinstance(v, ast.Constant)
            or (isinstance(v, ast.FormattedValue) and _literal_structure(v.value))
            for v in node.values
        )
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_literal_structure(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(v is not None and _literal_structure(v) for v in node.values) and all(
            k is None or _literal_structure(k) or isinstance(k, ast.Attribute | ast.Name)
            for k in node.keys
        )
    return False


@cache
def _module(path: Path) -> ast.Module | None:
    return ast.parse(path.read_text()) if path.exists() else None


def _module_path(dotted: str) -> Path:
    base = ROOT.joinpath(*dotted.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _module_constant(path: Path, name: str) -> bool:
    """Whether ``name`` is a module-level constant of literals in the module at ``path``."""
    tree = _module(path)
    if tree is None:
        return False
    values = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ] + [
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == name
        and node.value is not None
    ]
    if values:
        return all(_literal_structure(v) for v in values)
    # Re-exported from another module.
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _module_constant(_module_path(node.module), alias.name)
    return False


class _Scope:
    """The function (or module) a sink sits in: its assignments and parameters."""

    def __init__(self, node: ast.AST, module: "_ModuleInfo"):
        self.node = node
        self.module = module
        self.params: set[str] = set()
        self.assigned: dict[str, list[ast.AST | None]] = {}
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            for a in args.posonlyargs + args.args + args.kwonlyargs:
                self.params.add(a.arg)
            for a in (args.vararg, args.kwarg):
                if a is not None:
                    self.params.add(a.arg)
        body = node.body if isinstance(node.body, list) else [node.body]
        for stmt in body:
            for sub in _walk_same_scope(stmt):
                self._collect(sub)

    def _collect(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._target(target, node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
            self._target(node.target, node.value if isinstance(node, ast.AnnAssign) else None)
        elif isinstance(node, ast.NamedExpr):
            self._target(node.target, node.value)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            self._target(node.target, None)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    self._target(item.optional_vars, None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self.assigned.setdefault(node.name, []).append(None)

    def _target(self, target: ast.AST, value: ast.AST | None) -> None:
        if isinstance(target, ast.Name):
            self.assigned.setdefault(target.id, []).append(value)
        elif isinstance(target, ast.Tuple | ast.List):
            paired = isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts)
            for index, element in enumerate(target.elts):
                self._target(element, value.elts[index] if paired else None)


def _walk_same_scope(node: ast.AST) -> Iterator[ast.AST]:
    """Every node of a statement, not descending into nested functions, lambdas or classes."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        yield from _walk_same_scope(child)


class _ModuleInfo:
    def __init__(self, path: Path):
        self.path = path
        self.tree = _module(path)
        self.imports: dict[str, str] = {}  # local name -> dotted module (for "mod.NAME")
        self.from_imports: dict[str, tuple[str, str]] = {}  # local name -> (module, name)
        self.functions: dict[str, ast.FunctionDef] = {}
        for node in self.tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    local = alias.asname or alias.name
                    self.from_imports[local] = (node.module, alias.name)
                    if _module_path(f"{node.module}.{alias.name}").exists():
                        self.imports[local] = f"{node.module}.{alias.name}"
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef):
                self.functions.setdefault(node.name, node)
        self.module_scope = _Scope(self.tree, self)

    def constant(self, node: ast.AST) -> bool:
        """A Name or module.NAME that is a literal constant (here or in the imported module)."""
        if isinstance(node, ast.Name):
            if node.id in self.from_imports and node.id not in self.imports:
                module, name = self.from_imports[node.id]
                return _module_constant(_module_path(module), name)
            return False
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = self.imports.get(node.value.id)
            return module is not None and _module_constant(_module_path(module), node.attr)
        return False


class _Checker:
    def __init__(self, module: _ModuleInfo, scopes: list[_Scope]):
        self.module = module
        self.scopes = scopes  # innermost last
        self._busy: set[int] = set()

    def safe(self, node: ast.AST | None) -> bool:
        if node is None:
            return True
        key = id(node)
        if key in self._busy:
            return False  # a cycle (x = x + ...) proves nothing
        self._busy.add(key)
        try:
            return self._safe(node)
        finally:
            self._busy.discard(key)

    def _safe(self, node: ast.AST) -> bool:  # noqa: C901, PLR0911, PLR0912 (one rule per node type)
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(self.safe(v) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            return _numeric_or_date_spec(node.format_spec) or self.safe(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod | ast.Mult):
            return self.safe(node.left) and self.safe(node.right)
        if isinstance(node, ast.IfExp):
            return self.safe(node.body) and self.safe(node.orelse)
        if isinstance(node, ast.BoolOp):
            return all(self.safe(v) for v in node.values)
        if isinstance(node, ast.Compare | ast.UnaryOp):
            return True  # a bool
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return all(self.safe(e) for e in node.elts)
        if isinstance(node, ast.GeneratorExp | ast.ListComp):
            return self.safe(node.elt)
        if isinstance(node, ast.Dict):
            return all(v is not None and self.safe(v) for v in node.values)
        if isinstance(node, ast.DictComp):
            return self.safe(node.value)
        if isinstance(node, ast.Name):
            return self._safe_name(node)
        if isinstance(node, ast.Attribute):
            return self.module.constant(node) or self._config(node.value)
        if isinstance(node, ast.Subscript):
            # CONSTANT[key] / CONSTANT.get(key): a value of a literal table.
            return self._literal_table(node.value)
        if isinstance(node, ast.Call):
            return self._safe_call(node)
        return False

    def _config(self, node: ast.AST) -> bool:
        """get_settings() (or a name bound only to it): the operator's configuration."""
        if isinstance(node, ast.Call):
            return isinstance(node.func, ast.Name) and node.func.id in CONFIG
        if isinstance(node, ast.Attribute):
            return self._config(node.value)
        if isinstance(node, ast.Name):
            for scope in reversed(self.scopes):
                if node.id in scope.params:
                    return False
                if node.id in scope.assigned:
                    values = scope.assigned[node.id]
                    return all(v is not None and self._config(v) for v in values)
        return False

    def _literal_table(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name) and not self.module.constant(node):
            return self._safe_name(node)
        return self.module.constant(node)

    def _safe_name(self, node: ast.Name) -> bool:
        for scope in reversed(self.scopes):
            if node.id in scope.params:
                return False
            if node.id in scope.assigned:
                values = scope.assigned[node.id]
                if any(v is None for v in values):
                    return False
                inner = _Checker(self.module, self.scopes[: self.scopes.index(scope) + 1])
                inner._busy = self._busy
                return all(inner.safe(v) for v in values)
        return self.module.constant(node)

    def _safe_call(self, node: ast.Call) -> bool:  # noqa: PLR0911
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name == ESCAPER:
            return True
        if isinstance(func, ast.Name) and func.id in FORMATTERS:
            return True
        if isinstance(func, ast.Attribute) and self._config(func.value):
            return True  # e.g. settings.tz.key
        if isinstance(func, ast.Attribute):
            if func.attr in STRING_METHODS:
                return self.safe(func.value)
            if func.attr == "join":
                return self.safe(func.value) and all(self.safe(a) for a in node.args)
            if func.attr in ("get", "__getitem__"):
                return self._literal_table(func.value) and all(self.safe(a) for a in node.args[1:])
            if func.attr == "format":
                return self.safe(func.value) and all(
                    self.safe(a) for a in [*node.args, *(k.value for k in node.keywords)]
                )
        if isinstance(func, ast.Name) and func.id in self.module.functions:
            return self._safe_function(self.module.functions[func.id])
        return False

    def _safe_function(self, function: ast.FunctionDef) -> bool:
        returns = [n for n in _walk_same_scope_body(function) if isinstance(n, ast.Return)]
        if not returns:
            return False
        scopes = [self.module.module_scope, _Scope(function, self.module)]
        checker = _Checker(self.module, scopes)
        checker._busy = self._busy
        return all(checker.safe(r.value) for r in returns)

    def safe_function_value(self, node: ast.AST) -> bool:
        """A format_func: a lambda whose body is inert, CONSTANT.get, or an inert helper."""
        if isinstance(node, ast.Lambda):
            checker = _Checker(self.module, [*self.scopes, _Scope(node, self.module)])
            checker._busy = self._busy
            return checker.safe(node.body)
        if isinstance(node, ast.Attribute) and node.attr in ("get", "__getitem__"):
            return self._literal_table(node.value)
        if isinstance(node, ast.Name) and node.id in self.module.functions:
            return self._safe_function(self.module.functions[node.id])
        if isinstance(node, ast.Attribute) and node.attr == ESCAPER:
            return True
        return isinstance(node, ast.Name) and node.id == ESCAPER


def _walk_same_scope_body(function: ast.FunctionDef) -> Iterator[ast.AST]:
    for stmt in function.body:
        yield from _walk_same_scope(stmt)


def _receiver_root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _markdown_arguments(call: ast.Call, method: str) -> Iterator[tuple[str, ast.AST]]:
    spec = MARKDOWN_ARGS.get(method, ())
    for which in spec:
        if which == "*":
            for index, arg in enumerate(call.args):
                yield f"argument {index + 1}", arg
        elif isinstance(which, int) and which < len(call.args):
            yield f"argument {which + 1}", call.args[which]
    for keyword in call.keywords:
        if keyword.arg in spec or keyword.arg == "help":
            yield f"{keyword.arg}=", keyword.value


def scan_file(path: Path) -> list[Finding]:  # noqa: C901 (one walk, several rules)
    module = _ModuleInfo(path)
    relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    lines = path.read_text().splitlines()
    findings: list[Finding] = []

    def report(node: ast.AST, what: str) -> None:
        text = lines[node.lineno - 1].strip()
        if (relative, text) not in ALLOWED:
            findings.append(Finding(relative, node.lineno, what, ast.unparse(node)[:160]))

    def visit(node: ast.AST, scopes: list[_Scope]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            scopes = [*scopes, _Scope(node, module)]
        if isinstance(node, ast.Call):
            check_call(node, scopes)
        for child in ast.iter_child_nodes(node):
            visit(child, scopes)

    def check_call(call: ast.Call, scopes: list[_Scope]) -> None:
        checker = _Checker(module, scopes)
        func = call.func
        for keyword in call.keywords:
            if keyword.arg == "unsafe_allow_html" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                report(call, "unsafe_allow_html")
        if (
            isinstance(func, ast.Call)
            and isinstance(func.func, ast.Name)
            and func.func.id == "getattr"
            and func.args
            and _receiver_root(func.args[0]) == "st"
        ):
            report(call, "getattr(st, ...)(...): an unknown Streamlit call")
            return
        if not isinstance(func, ast.Attribute):
            return
        method, root = func.attr, _receiver_root(func.value)
        if root in NOT_STREAMLIT or root is None and not isinstance(func.value, ast.Call):
            return
        if module.imports.get(root, "streamlit").split(".")[0] != "streamlit":
            return  # a function of one of our modules (browser_cookie.write), not Streamlit
        if method in REFUSED_CALLS and root is not None and call.args:
            report(call, REFUSED_CALLS[method])
            return
        if method not in MARKDOWN_ARGS and not any(k.arg == "help" for k in call.keywords):
            return
        if method in ("title", "strip", "lower") and not call.args and not call.keywords:
            return  # str.title()
        for where, arg in _markdown_arguments(call, method):
            if not checker.safe(arg):
                report(arg, f"st.{method} {where}")
        if method in MARKDOWN_OPTIONS:
            format_func = next((k.value for k in call.keywords if k.arg == "format_func"), None)
            if format_func is not None:
                if not checker.safe_function_value(format_func):
                    report(format_func, f"st.{method} format_func (options are Markdown)")
            else:
                options = next((k.value for k in call.keywords if k.arg == "options"), None)
                options = options or (call.args[1] if len(call.args) > 1 else None)
                if options is not None and not checker.safe(options):
                    report(options, f"st.{method} options (options are Markdown)")

    visit(module.tree, [module.module_scope])
    return findings


def scan() -> list[Finding]:
    return [finding for path in UI_FILES for finding in scan_file(path)]
