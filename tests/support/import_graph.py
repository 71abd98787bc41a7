"""The imports between facesite's modules, read from the source (nothing is imported): which module imports
which at its top, which imports sit inside functions, and the loops among them.

    python -m tests.support.import_graph [PACKAGE]   # the counts the layout test holds the code to
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "facesite"


@dataclass
class ImportGraph:
    modules: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=dict)  # module -> modules it imports at its top
    in_functions: list[tuple[str, str]] = field(default_factory=list)  # (module, imported) inside a function

    def cycles(self) -> list[list[str]]:
        """The loops among top-level imports (Tarjan's strongly connected components of two or more)."""
        index, low, stack, on_stack, found = {}, {}, [], set(), []

        def visit(module: str) -> None:
            index[module] = low[module] = len(index)
            stack.append(module)
            on_stack.add(module)
            for other in self.edges.get(module, ()):
                if other not in index:
                    visit(other)
                    low[module] = min(low[module], low[other])
                elif other in on_stack:
                    low[module] = min(low[module], index[other])
            if low[module] == index[module]:
                component = []
                while True:
                    other = stack.pop()
                    on_stack.discard(other)
                    component.append(other)
                    if other == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

        for module in sorted(self.modules):
            if module not in index:
                visit(module)
        return found

    def between_packages(self) -> ImportGraph:
        """The same imports with every subpackage of facesite drawn as one node (facesite.web, facesite.batch,
        …; a module at the top stays itself): a loop here is an import that runs back up between floors."""
        def node(module: str) -> str:
            parts = module.split(".")
            name = ".".join(parts[:2])
            return name if name in self.modules else module

        rooms = ImportGraph(modules={node(m): self.modules[m] for m in self.modules})
        for module, targets in self.edges.items():
            rooms.edges.setdefault(node(module), set()).update(node(t) for t in targets if node(t) != node(module))
        return rooms

    def importers_of(self, prefix: str) -> dict[str, set[str]]:
        """Modules that import ``prefix`` or anything under it (at the top or in a function), with what."""
        found: dict[str, set[str]] = {}
        pairs = [(a, b) for a, targets in self.edges.items() for b in targets] + self.in_functions
        for module, imported in pairs:
            if imported == prefix or imported.startswith(prefix + "."):
                found.setdefault(module, set()).add(imported)
        return found


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read(package: Path = PACKAGE) -> ImportGraph:
    graph = ImportGraph()
    for path in sorted(package.rglob("*.py")):
        graph.modules[module_name(path, package)] = path
    for name, path in graph.modules.items():
        graph.edges[name] = set()
        _walk(graph, name, path.name == "__init__.py", ast.parse(path.read_text()), inside_function=False)
    return graph


def _walk(graph: ImportGraph, module: str, is_package: bool, node: ast.AST, inside_function: bool) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _walk(graph, module, is_package, child, inside_function=True)
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for imported in _targets(graph, module, is_package, child):
                if inside_function:
                    graph.in_functions.append((module, imported))
                elif imported != module:
                    graph.edges[module].add(imported)
        _walk(graph, module, is_package, child, inside_function)


def _targets(graph: ImportGraph, module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The facesite modules an import statement loads by name (``from a import b``: ``a.b`` when b is a module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = module.split(".") if is_package else module.split(".")[:-1]
            parts = parts[:len(parts) - node.level + 1]
            base = ".".join(parts + ([node.module] if node.module else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in graph.modules else base for alias in node.names]
    found = []
    for name in names:
        while name and name not in graph.modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in graph.modules and name not in found:
            found.append(name)
    return found


if __name__ == "__main__":
    import sys

    graph = read(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGE)
    print(f"modules: {len(graph.modules)}")
    print(f"imports inside functions: {len(graph.in_functions)}")
    for module, imported in graph.in_functions:
        print(f"  {module} -> {imported}")
    print(f"import loops between packages: {len(graph.between_packages().cycles())}")
    for loop in graph.between_packages().cycles():
        print("  " + " -> ".join(loop))
    print(f"import loops: {len(graph.cycles())}")
    for loop in graph.cycles():
        print("  " + " -> ".join(loop))
    below = graph.importers_of("facesite.web")
    print(f"modules outside facesite.web importing it: {sorted(m for m in below if not m.startswith('facesite.web'))}")
