"""A Mermaid picture of a plan: the components, how they nest, and their main edges.

    python -m tools.diagram [--stack dev] [--mode preview|update] [--write-readme | --check-readme]

Everything is derived from the plan's registrations (`Diagram.of`), nothing is hard-coded:

* **Nodes** are the component resources (``custom == False``) except the Stack, labelled ``Type name`` (the type
  token's last segment and the logical name, e.g. ``EksCluster eks``). A component that nests other components is a
  ``subgraph`` holding them. Custom resources are collapsed into the component that owns them (the nearest component
  ancestor), except the two kinds of leaf a main edge ends at: an annotated ServiceAccount and a Vault role binding
  IAM principals. A leaf is drawn inside its owner when the owner is a subgraph, else beside it.
* **Data edges** (unlabelled): component A -> component B when a custom resource B owns has a dependency or a
  property dependency on a resource A owns. Both ends are lifted to the outermost components that do not contain each
  other (the children of their common ancestor), so an edge never joins a component to one it nests (the nesting
  shows that), and a resource at the Stack's top level (the Stack's own providers) gives no edge.
* **Provider edges** (``-->|"kubernetes provider"|``): component A -> component B when a resource of B uses a
  provider resource A owns; a provider at the Stack's top level counts for the owners of what its inputs depend on.
  Such an edge replaces the data edge of the same pair: the cluster -> the in-cluster components.
* **IRSA edges** (``-->|"IRSA"|``): the component owning an IAM role -> each ServiceAccount annotated with that role's
  ARN (`components.naming.ROLE_ARN_ANNOTATION`), whether a ``ServiceAccount`` resource or a chart's
  ``serviceAccount`` values. A known annotation value is matched to the role with that ``arn`` output; an unknown one
  (a preview) to the one IAM role its property depends on (none when several could be it).
* **Binding edges** (``-->|"binds"|``): a resource with ``boundIamPrincipalArns`` (Vault's AWS auth backend role) ->
  the component owning each IAM role it binds, matched the same way (an unknown value: the roles the property depends
  on).

Node ids are ``n_`` plus the label's ``[A-Za-z0-9_]`` characters (``_`` for the rest), with a short hash of the URN
when two would collide; the prefix keeps ids clear of Mermaid's ``end`` keyword and of the ``o``/``x`` edge endings.
Labels are quoted and escaped with Mermaid's entity codes. The output is stable across runs (sorted by URN and id).

``--write-readme`` replaces the block between ``<!-- diagram:<stack>:start -->`` and ``<!-- diagram:<stack>:end -->``
in README.md with `markdown_block`; ``--check-readme`` exits 1 when that block is not the current diagram.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from components.naming import ROLE_ARN_ANNOTATION
from tools.harness import REPO_ROOT, STACK_TYPE, UNKNOWN, Plan, Registration
from tools.stack_cli import add_stack_arguments, plan_or_error

#: The direction of the flowchart: left to right (VPC, cluster, what runs in it).
DIRECTION: Final = "LR"
IAM_ROLE_TYPE: Final = "aws:iam/role:Role"
SERVICE_ACCOUNT_TYPE: Final = "kubernetes:core/v1:ServiceAccount"
PROVIDER_PREFIX: Final = "pulumi:providers:"
#: The input of a Vault AWS auth backend role holding the IAM principals it binds (the wire name of
#: ``bound_iam_principal_arns``, pulumi/pulumi-vault sdk/python/pulumi_vault/aws/auth_backend_role.py).
BOUND_PRINCIPALS_INPUT: Final = "boundIamPrincipalArns"
IRSA_LABEL: Final = "IRSA"
BINDS_LABEL: Final = "binds"
README: Final = REPO_ROOT / "README.md"
EXIT_OK, EXIT_STALE, EXIT_ERROR = 0, 1, 2

#: Characters a quoted Mermaid label cannot hold as they are, and the entity code each is written as. Mermaid
#: flowchart docs, "Entity codes to escape characters" (mermaid-js/mermaid@e6e88ce:
#: packages/mermaid/src/docs/syntax/flowchart.md): ``#quot;`` for ``"``, numbers in base 10 (``#35;`` for ``#``),
#: HTML character names. ``<``, ``>`` and ``&`` would be read as HTML in the label; a backtick opens a Markdown
#: string (the "Markdown Strings" section of the same page).
ESCAPES: Final = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"}
SAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def escape_label(text: str) -> str:
    """``text`` as the inside of a quoted Mermaid label: one line, every character of `ESCAPES` as its entity code."""
    one_line = " ".join(text.split())
    return "".join(ESCAPES.get(char, char) for char in one_line)


def short_type(type_token: str) -> str:
    """The last segment of a type token: ``eksplatform:platform:EksCluster`` -> ``EksCluster``."""
    return type_token.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Node:
    """One node or subgraph: ``key`` (a URN, or a URN and a path for a leaf), its label and where it is drawn."""

    key: str
    label: str
    #: The key of the subgraph it is drawn in ("" for the top level).
    container: str
    subgraph: bool = False


@dataclass(frozen=True, order=True)
class Edge:
    """An edge between two node keys; ``label`` is "" for a data edge."""

    source: str
    target: str
    label: str = ""


@dataclass(frozen=True)
class Leaf:
    """A custom resource drawn as a node of its own: ``key``, its label and the component owning it."""

    key: str
    label: str
    owner: str


class Graph:
    """The registrations of a plan as a component tree: owners, ancestors and the edges between components."""

    def __init__(self, plan: Plan) -> None:
        """Index ``plan``'s registrations by URN."""
        self.plan = plan
        self.by_urn = {r.urn: r for r in plan.resources}
        self.stacks = {r.urn for r in plan.resources if r.type == STACK_TYPE}
        self.components = [r for r in plan.resources if not r.custom and r.type != STACK_TYPE]
        self.components_by_urn = {r.urn: r for r in self.components}
        self.providers = sorted((r.urn for r in plan.resources if r.type.startswith(PROVIDER_PREFIX)), key=len)

    def owner(self, urn: str) -> str:
        """The component (or Stack) ``urn`` is collapsed into: itself for a component, else its nearest component."""
        current = urn
        while current in self.by_urn and self.by_urn[current].custom:
            current = self.by_urn[current].parent
        return current if current in self.by_urn else ""

    def chain(self, urn: str) -> list[str]:
        """The components from the top level down to ``urn``'s owner (empty for the Stack and what it owns)."""
        found: list[str] = []
        current = self.owner(urn)
        while current and current not in self.stacks:
            found.append(current)
            current = self.owner(self.by_urn[current].parent)
        return found[::-1]

    def lift(self, source: str, target: str) -> tuple[str, str] | None:
        """The two components an edge ``source`` -> ``target`` joins, lifted to the children of their common ancestor.

        None when either end is the Stack's, or when one end's component contains (or is) the other's.
        """
        above, below = self.chain(source), self.chain(target)
        common = 0
        while common < min(len(above), len(below)) and above[common] == below[common]:
            common += 1
        if common in {len(above), len(below)}:
            return None
        return above[common], below[common]

    def nests(self, urn: str) -> bool:
        """True when the component ``urn`` is the owner of another component (it is drawn as a subgraph)."""
        return any(self.owner(c.parent) == urn for c in self.components)

    def provider_of(self, reference: str) -> str:
        """The provider URN in a ``<urn>::<id>`` reference ("" when no provider of the plan has it)."""
        for urn in reversed(self.providers):  # longest first: one URN may begin another
            if reference.startswith(f"{urn}::"):
                return urn
        return ""

    def roles_with_arn(self, arn: str) -> list[str]:
        """The IAM roles of the plan whose ``arn`` output is ``arn``."""
        return [r.urn for r in self.plan.by_type(IAM_ROLE_TYPE) if r.outputs.get("arn") == arn]

    def role_dependencies(self, registration: Registration, prop: str) -> list[str]:
        """The IAM roles the input ``prop`` of ``registration`` depends on."""
        deps = registration.property_dependencies.get(prop, [])
        return [urn for urn in deps if urn in self.by_urn and self.by_urn[urn].type == IAM_ROLE_TYPE]


def dependencies(registration: Registration) -> set[str]:
    """Everything ``registration`` depends on: its dependencies and its property dependencies."""
    found = set(registration.dependencies)
    for urns in registration.property_dependencies.values():
        found.update(urns)
    return found


def data_and_provider_edges(graph: Graph) -> list[Edge]:
    """The component-level data and provider edges, one per pair, labelled with the provider packages if any."""
    labels: dict[tuple[str, str], set[str]] = {}
    for resource in graph.plan.resources:
        for dependency in dependencies(resource):
            pair = graph.lift(dependency, resource.urn) if dependency in graph.by_urn else None
            if pair:
                labels.setdefault(pair, set())
        for reference in {resource.provider, *resource.providers.values()} - {""}:
            provider = graph.provider_of(reference)
            if not provider:
                continue
            owner = graph.owner(provider)
            sources = {provider} if owner not in graph.stacks else dependencies(graph.by_urn[provider])
            package = graph.by_urn[provider].type.removeprefix(PROVIDER_PREFIX)
            for source in sources & graph.by_urn.keys():
                pair = graph.lift(source, resource.urn)
                if pair:
                    labels.setdefault(pair, set()).add(f"{package} provider")
    return [Edge(source, target, ", ".join(sorted(found))) for (source, target), found in labels.items()]


def annotated_accounts(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:  # noqa: ANN401 - JSON
    """``(path, holder)`` for each dict in ``value`` whose ``annotations`` carry `ROLE_ARN_ANNOTATION`."""
    if isinstance(value, dict):
        annotations = value.get("annotations")
        if isinstance(annotations, dict) and ROLE_ARN_ANNOTATION in annotations:
            yield path, value
        for key, item in sorted(value.items()):
            yield from annotated_accounts(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from annotated_accounts(item, f"{path}[{index}]")


def account_label(resource: Registration, prop: str, path: str, holder: dict[str, Any]) -> str:
    """How the ServiceAccount ``holder`` (at ``path`` in input ``prop``) is labelled.

    ``ServiceAccount <namespace>/<name>`` (a chart's values: the release's namespace) when the name is known, else
    what the values path names: ``ServiceAccount of sourceController (Release flux-release)``.
    """
    name = holder.get("name")
    namespace = holder.get("namespace", resource.inputs.get("namespace"))
    if isinstance(name, str) and name != UNKNOWN:
        known_namespace = isinstance(namespace, str) and namespace != UNKNOWN
        return f"ServiceAccount {namespace}/{name}" if known_namespace else f"ServiceAccount {name}"
    segments = [s for s in path.removeprefix(prop).split(".") if s]
    if segments and segments[-1] == "serviceAccount":
        segments.pop()
    where = f"{'.'.join(segments)} " if segments else ""
    return f"ServiceAccount of {where}({short_type(resource.type)} {resource.name})"


def roles_named(graph: Graph, resource: Registration, prop: str, values: list[Any], *, single: bool) -> list[str]:
    """The IAM roles ``values`` (ARNs in input ``prop``) name: by ``arn`` when known, else by ``prop``'s dependencies.

    ``single``: an unknown value stands for one role, so several candidate roles give none.
    """
    found = {
        urn for value in values if isinstance(value, str) and value != UNKNOWN for urn in graph.roles_with_arn(value)
    }
    if any(value == UNKNOWN for value in values):
        candidates = graph.role_dependencies(resource, prop)
        if not single or len(candidates) == 1:
            found.update(candidates)
    return sorted(found)


def irsa_edges(graph: Graph) -> list[tuple[Leaf, Edge]]:
    """Each ServiceAccount annotated with an IAM role's ARN, and the edge from the role's owner to it."""
    found: list[tuple[Leaf, Edge]] = []
    for resource in graph.plan.resources:
        if not resource.custom:
            continue
        for prop, value in sorted(resource.inputs.items()):
            for path, holder in annotated_accounts(value, prop):
                arn = holder["annotations"][ROLE_ARN_ANNOTATION]
                label = account_label(resource, prop, path, holder)
                leaf = Leaf(f"{resource.urn}#{path}", label, graph.owner(resource.urn))
                roles = roles_named(graph, resource, prop, [arn], single=True)
                found.extend((leaf, Edge(graph.owner(role), leaf.key, IRSA_LABEL)) for role in roles)
    return found


def binding_edges(graph: Graph) -> list[tuple[Leaf, Edge]]:
    """Each resource binding IAM principals (Vault's AWS auth role), and an edge to each bound role's owner."""
    found: list[tuple[Leaf, Edge]] = []
    for resource in graph.plan.resources:
        values = resource.inputs.get(BOUND_PRINCIPALS_INPUT)
        if not resource.custom or not isinstance(values, list):
            continue
        leaf = Leaf(resource.urn, f"{short_type(resource.type)} {resource.name}", graph.owner(resource.urn))
        roles = roles_named(graph, resource, BOUND_PRINCIPALS_INPUT, values, single=False)
        found.extend((leaf, Edge(leaf.key, graph.owner(role), BINDS_LABEL)) for role in roles)
    return found


@dataclass(frozen=True)
class Diagram:
    """The nodes and edges of a plan's picture, and how it is written in Mermaid."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @classmethod
    def of(cls, plan: Plan) -> Diagram:
        """The diagram of ``plan`` by the rules of the module docstring."""
        graph = Graph(plan)
        nodes: dict[str, Node] = {}
        for component in graph.components:
            parent = graph.owner(component.parent)
            container = "" if parent in graph.stacks else parent
            label = f"{short_type(component.type)} {component.name}"
            nodes[component.urn] = Node(component.urn, label, container, subgraph=graph.nests(component.urn))
        edges = set(data_and_provider_edges(graph))
        for leaf, edge in [*irsa_edges(graph), *binding_edges(graph)]:
            partner = edge.source if edge.target == leaf.key else edge.target
            if partner not in graph.components_by_urn:
                continue  # the Stack's own role, or one outside the plan: no component to draw it from
            owner = nodes.get(leaf.owner)
            inside = owner is not None and owner.subgraph and partner != leaf.owner
            container = leaf.owner if inside else (owner.container if owner else "")
            nodes.setdefault(leaf.key, Node(leaf.key, leaf.label, container))
            edges.add(edge)
        return cls(tuple(sorted(nodes.values(), key=lambda n: n.key)), tuple(sorted(edges)))

    def ids(self) -> dict[str, str]:
        """Each node key's Mermaid id: ``n_`` and its label's safe characters, a hash of the key where they collide."""
        wanted = {node.key: "n_" + SAFE_ID.sub("_", node.label) for node in self.nodes}
        counts: dict[str, int] = {}
        for base in wanted.values():
            counts[base] = counts.get(base, 0) + 1
        return {
            key: base if counts[base] == 1 else f"{base}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"
            for key, base in wanted.items()
        }

    def labels(self) -> dict[str, str]:
        """Each node key's label."""
        return {node.key: node.label for node in self.nodes}

    def lines(self) -> list[str]:
        """The Mermaid flowchart: subgraphs and nodes nested as drawn, then the edges, sorted by id."""
        ids = self.ids()
        inside: dict[str, list[Node]] = {}
        for node in self.nodes:
            inside.setdefault(node.container, []).append(node)
        lines = [f"flowchart {DIRECTION}"]

        def draw(container: str, depth: int) -> None:
            for node in sorted(inside.get(container, []), key=lambda n: ids[n.key]):
                pad = "  " * depth
                if node.subgraph:
                    lines.append(f'{pad}subgraph {ids[node.key]} ["{escape_label(node.label)}"]')
                    draw(node.key, depth + 1)
                    lines.append(f"{pad}end")
                else:
                    lines.append(f'{pad}{ids[node.key]}["{escape_label(node.label)}"]')

        draw("", 1)
        for edge in sorted(self.edges, key=lambda e: (ids[e.source], ids[e.target], e.label)):
            arrow = f'-->|"{escape_label(edge.label)}"|' if edge.label else "-->"
            lines.append(f"  {ids[edge.source]} {arrow} {ids[edge.target]}")
        return lines


def mermaid(plan: Plan) -> list[str]:
    """The Mermaid flowchart of ``plan`` (`Diagram.of`), one line per item, without a Markdown fence."""
    return Diagram.of(plan).lines()


def markdown_block(plan: Plan) -> list[str]:
    """`mermaid` in a fenced ```` ```mermaid ```` block, as GitHub renders it in Markdown."""
    return ["```mermaid", *mermaid(plan), "```"]


def markers(stack: str) -> tuple[str, str]:
    """The README comments around ``stack``'s diagram block."""
    return f"<!-- diagram:{stack}:start -->", f"<!-- diagram:{stack}:end -->"


def replace_block(text: str, stack: str, block: list[str]) -> str:
    """``text`` with the lines between ``stack``'s `markers` replaced by ``block``; ValueError without one pair."""
    start, end = markers(stack)
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == start]
    ends = [i for i, line in enumerate(lines) if line.strip() == end]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        msg = f"needs exactly one {start} line followed by one {end} line"
        raise ValueError(msg)
    return "\n".join([*lines[: starts[0] + 1], *block, *lines[ends[0] :]])


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``python -m tools.diagram``."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.diagram", description="Print a stack's components and main edges as a Mermaid flowchart."
    )
    add_stack_arguments(parser, default_stack="dev")
    readme = parser.add_mutually_exclusive_group()
    readme.add_argument("--write-readme", action="store_true", help="write the diagram into README.md's block")
    readme.add_argument("--check-readme", action="store_true", help="exit 1 when README.md's block is stale")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the diagram CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    plan = plan_or_error(args)
    if plan is None:
        return EXIT_ERROR
    if not (args.write_readme or args.check_readme):
        sys.stdout.write("\n".join(mermaid(plan)) + "\n")
        return EXIT_OK
    current = README.read_text()
    try:
        wanted = replace_block(current, args.stack, markdown_block(plan))
    except ValueError as exc:
        sys.stderr.write(f"error: {README.name}: {exc}\n")
        return EXIT_ERROR
    if args.check_readme:
        if wanted != current:
            sys.stderr.write(
                f"{README.name}: the {args.stack} diagram is stale; run python -m tools.diagram "
                f"--stack {args.stack} --write-readme\n"
            )
            return EXIT_STALE
        return EXIT_OK
    if wanted != current:
        README.write_text(wanted)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
