"""tools.diagram: the Mermaid picture of dev and prod, its edges, ids and labels, and the README's copy of it.

The generated flowcharts are read back with Mermaid's own parser (``tools/mermaid-check``: the pinned ``mermaid``
package under jsdom, installed by ``./dev test``), which must see the same nodes, subgraphs, edges and labels.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from functools import cache
from typing import Any

import pytest
from google.protobuf import struct_pb2  # type: ignore[import-untyped, unused-ignore]

from components.naming import ROLE_ARN_ANNOTATION
from tools import diagram
from tools.diagram import Diagram, escape_label, markdown_block, markers, mermaid, replace_block
from tools.harness import REPO_ROOT, STACK_TYPE, UNKNOWN, Mode, Plan, Registration, run_program

CHECK_DIR = REPO_ROOT / "tools" / "mermaid-check"
#: Keeps the picture readable: prod must stay well under this many edges.
MAX_EDGES = 60
HOSTILE = 'a "quoted" [name] | pipe (x) {y} <b>bold</b> #hash; &amp; `tick` end'
PREFIX = "urn:pulumi:dev::eks-platform::"


@cache
def plan_of(stack: str, mode: Mode = "preview") -> Plan:
    return run_program(stack, mode)


def labelled(picture: Diagram) -> set[tuple[str, str, str]]:
    """``(source label, target label, edge label)`` of every edge."""
    labels = picture.labels()
    return {(labels[e.source], labels[e.target], e.label) for e in picture.edges}


def container_label(picture: Diagram, label: str) -> str:
    """The label of the subgraph the node labelled ``label`` is drawn in ("" at the top level)."""
    labels = picture.labels()
    (node,) = [n for n in picture.nodes if n.label == label]
    return labels.get(node.container, "")


# --- edges of the real stacks ----------------------------------------------------------------------------------

SHARED_EDGES = {
    ("Vpc network", "EksCluster eks", ""),
    ("CiRunner ci-runner", "EksCluster eks", ""),
    ("EksCluster eks", "ArgoBootstrap argocd", "kubernetes provider"),
    ("EksCluster eks", "NodeAutoscaler node-autoscaler", "kubernetes provider"),
    ("EksCluster eks", "VaultAwsAuth vault", "kubernetes provider"),
    ("IrsaRole node-autoscaler-controller", "ServiceAccount kube-system/karpenter", "IRSA"),
    ("IrsaRole vault-bound-role", "ServiceAccount eventual-hub-vault/vault-auth", "IRSA"),
    ("AuthBackendRole vault-auth-role", "IrsaRole vault-bound-role", "binds"),
}


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_dev_has_the_main_edges(mode):
    edges = labelled(Diagram.of(plan_of("dev", mode)))
    assert edges >= SHARED_EDGES | {
        ("EksCluster eks", "IrsaRole app-daft", "kubernetes provider"),
        ("IrsaRole app-daft", "ServiceAccount daft/daft", "IRSA"),
    }


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_prod_has_the_main_edges_and_no_app_role(mode):
    picture = Diagram.of(plan_of("prod", mode))
    assert labelled(picture) >= SHARED_EDGES
    assert "IrsaRole app-daft" not in picture.labels().values()  # prod declares no app role


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_edges_never_loop_reach_the_stack_or_join_a_component_to_one_it_nests(stack):
    plan = plan_of(stack)
    picture = Diagram.of(plan)
    keys = {n.key for n in picture.nodes}
    container = {n.key: n.container for n in picture.nodes}

    def ancestors(key: str) -> set[str]:
        found: set[str] = set()
        while container.get(key):
            key = container[key]
            found.add(key)
        return found

    assert all(e.source != e.target for e in picture.edges)
    assert all(e.source in keys and e.target in keys for e in picture.edges)
    assert plan.stack_resource.urn not in keys
    assert not any(r.type.startswith("pulumi:providers:") for r in plan.resources if r.urn in keys)
    nested = [e for e in picture.edges if e.source in ancestors(e.target) or e.target in ancestors(e.source)]
    assert nested == []
    # The cluster's own IRSA roles are nested in it: their data edges with it are not drawn.
    edges = labelled(picture)
    assert ("EksCluster eks", "IrsaRole eks-ebs-csi", "") not in edges
    assert ("IrsaRole eks-ebs-csi", "EksCluster eks", "") not in edges
    # GuardDuty takes nothing from the other components and gives them nothing.
    assert [e for e in edges if "GuardDuty guardduty" in e[:2]] == []


def test_nesting_and_where_leaves_are_drawn():
    picture = Diagram.of(plan_of("dev"))
    subgraphs = {n.label for n in picture.nodes if n.subgraph}
    assert subgraphs == {"EksCluster eks", "NodeAutoscaler node-autoscaler", "VaultAwsAuth vault"}
    assert container_label(picture, "IrsaRole eks-ebs-csi") == "EksCluster eks"
    assert container_label(picture, "IrsaRole vault-bound-role") == "VaultAwsAuth vault"
    # A leaf sits in its owner when the owner is a subgraph, else beside it (app-daft is a plain node).
    assert container_label(picture, "ServiceAccount kube-system/karpenter") == "NodeAutoscaler node-autoscaler"
    assert container_label(picture, "AuthBackendRole vault-auth-role") == "VaultAwsAuth vault"
    assert container_label(picture, "ServiceAccount daft/daft") == ""


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_picture_is_the_same_across_runs_and_modes(stack):
    first = mermaid(plan_of(stack))
    assert mermaid(run_program(stack, "preview")) == first  # a second, separate run
    assert mermaid(plan_of(stack, "update")) == first


def test_prod_stays_readable():
    picture = Diagram.of(plan_of("prod"))
    subgraphs = sum(n.subgraph for n in picture.nodes)
    assert len(picture.edges) <= MAX_EDGES
    assert len(picture.nodes) <= MAX_EDGES
    # One line per node, two per subgraph (its `end`), one per edge and the header: no other statement is written.
    assert len(mermaid(plan_of("prod"))) == 1 + len(picture.nodes) + subgraphs + len(picture.edges)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ids_are_unique_and_safe(stack):
    ids = Diagram.of(plan_of(stack)).ids()
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"n_[A-Za-z0-9_]+", node_id) for node_id in ids.values())
    assert ids[plan_of(stack).one("eksplatform:platform:EksCluster", "eks").urn] == "n_EksCluster_eks"


# --- synthetic plans: matching rules, hostile names ------------------------------------------------------------


def registration(urn: str, parent: str = "", *, custom: bool = True, **fields: Any) -> Registration:
    type_token, name = urn.removeprefix(PREFIX).rsplit("::", 1)
    return Registration(
        urn=urn,
        type=type_token.rsplit("$", 1)[-1],
        name=name,
        parent=parent,
        provider=fields.pop("provider", ""),
        inputs=fields.pop("inputs", {}),
        raw_object=struct_pb2.Struct(),
        dependencies=sorted(fields.pop("dependencies", [])),
        property_dependencies=fields.pop("property_dependencies", {}),
        custom=custom,
        protect=False,
        **fields,
    )


STACK = f"{PREFIX}{STACK_TYPE}::eks-platform-dev"


def synthetic_plan(*resources: Registration) -> Plan:
    stack = registration(STACK, custom=False)
    return Plan("dev", "eks-platform", "preview", sorted([stack, *resources], key=lambda r: r.urn))


def irsa_plan(annotation: str, role_deps: list[str]) -> Plan:
    """Two components, each with an IAM role (ARNs ``arn:a``, ``arn:b``), and a ServiceAccount in a third."""
    comps = {c: registration(f"{PREFIX}x:c:Comp::{c}", STACK, custom=False) for c in ("a", "b", "apps")}
    roles = {c: f"{PREFIX}x:c:Comp$aws:iam/role:Role::{c}-role" for c in ("a", "b")}
    role_regs = [
        registration(roles[c], comps[c].urn, outputs={"arn": f"arn:{c}"} if annotation != UNKNOWN else {})
        for c in ("a", "b")
    ]
    account = registration(
        f"{PREFIX}x:c:Comp$kubernetes:core/v1:ServiceAccount::apps-sa",
        comps["apps"].urn,
        inputs={"metadata": {"name": "web", "namespace": "shop", "annotations": {ROLE_ARN_ANNOTATION: annotation}}},
        property_dependencies={"metadata": [roles[c] for c in role_deps]},
    )
    return synthetic_plan(*comps.values(), *role_regs, account)


def irsa_edges_of(plan: Plan) -> set[tuple[str, str, str]]:
    return {e for e in labelled(Diagram.of(plan)) if e[2] == "IRSA"}


def test_a_known_annotation_is_matched_to_the_role_with_that_arn():
    plan = irsa_plan("arn:b", ["a", "b"])
    assert irsa_edges_of(plan) == {("Comp b", "ServiceAccount shop/web", "IRSA")}
    # Data edges from both roles' components (the property depends on both) stay unlabelled.
    assert ("Comp a", "Comp apps", "") in labelled(Diagram.of(plan))


def test_an_unknown_annotation_is_the_one_role_its_property_depends_on_or_none():
    assert irsa_edges_of(irsa_plan(UNKNOWN, ["a"])) == {("Comp a", "ServiceAccount shop/web", "IRSA")}
    assert irsa_edges_of(irsa_plan(UNKNOWN, ["a", "b"])) == set()


def test_an_arn_no_role_of_the_plan_has_draws_no_leaf():
    picture = Diagram.of(irsa_plan("arn:elsewhere", ["a"]))
    assert "ServiceAccount shop/web" not in picture.labels().values()


def hostile_plan() -> Plan:
    outer = registration(f"{PREFIX}x:c:Outer::{HOSTILE}", STACK, custom=False)
    inner = registration(f"{PREFIX}x:c:Outer$x:c:Inner::{HOSTILE}", outer.urn, custom=False)
    other = registration(f"{PREFIX}x:c:Other::end", STACK, custom=False)
    thing = registration(f"{PREFIX}x:c:Outer$x:c:Inner$aws:s3/bucket:Bucket::b", inner.urn)
    user = registration(f"{PREFIX}x:c:Other$aws:s3/bucket:Bucket::c", other.urn, dependencies=[thing.urn])
    twins = [registration(f"{PREFIX}x:c:Twin::{name}", STACK, custom=False) for name in ("a.b", "a-b")]
    return synthetic_plan(outer, inner, other, thing, user, *twins)


def test_escape_label_writes_mermaid_entity_codes():
    assert escape_label('say "hi" #1 <b> & `x`\nnext') == "say #quot;hi#quot; #35;1 #lt;b#gt; #amp; #96;x#96; next"
    assert escape_label("a [b] | (c) {d}") == "a [b] | (c) {d}"  # quoted: brackets and pipes are text


def test_hostile_names_are_quoted_and_escaped():
    plan = hostile_plan()
    lines = mermaid(plan)
    label = escape_label(f"Outer {HOSTILE}")
    assert label == (
        "Outer a #quot;quoted#quot; [name] | pipe (x) {y} #lt;b#gt;bold#lt;/b#gt; #35;hash; #amp;amp; #96;tick#96; end"
    )
    ids = Diagram.of(plan).ids()
    outer = f"{PREFIX}x:c:Outer::{HOSTILE}"
    assert ids[outer] == "n_Outer_a__quoted___name____pipe__x___y___b_bold__b___hash___amp___tick__end"
    assert f'  subgraph {ids[outer]} ["{label}"]' in lines
    assert ids[f"{PREFIX}x:c:Other::end"] == "n_Other_end"
    # Two labels with the same safe characters: each id gets a hash of its URN.
    twins = {ids[f"{PREFIX}x:c:Twin::{name}"] for name in ("a.b", "a-b")}
    assert len(twins) == 2
    assert all(re.fullmatch(r"n_Twin_a_b_[0-9a-f]{8}", twin) for twin in twins)
    # The bucket inside Inner (inside Outer) is used by Other: the edge is lifted to Outer, the top-level component.
    assert labelled(Diagram.of(plan)) == {(f"Outer {HOSTILE}", "Other end", "")}


def test_markdown_block_fences_the_flowchart():
    plan = hostile_plan()
    assert markdown_block(plan) == ["```mermaid", *mermaid(plan), "```"]
    assert mermaid(plan)[0] == "flowchart LR"


# --- Mermaid's own parser ---------------------------------------------------------------------------------------


def parsed(texts: list[str]) -> list[dict[str, Any]]:
    """What ``tools/mermaid-check/check.mjs`` (Mermaid's parser) reads in each diagram."""
    node = shutil.which("node")
    if node is None or not (CHECK_DIR / "node_modules" / "mermaid" / "package.json").is_file():
        reason = "tools/mermaid-check is not installed (npm ci --prefix tools/mermaid-check); `./dev test` installs it"
        if os.environ.get("EKS_PLATFORM_REQUIRE_DATASETS"):  # set by `./dev test` (and so by CI)
            pytest.fail(reason)
        pytest.skip(reason)
    done = subprocess.run(
        [node, str(CHECK_DIR / "check.mjs")], input=json.dumps(texts), capture_output=True, text=True, check=True
    )
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def decoded(text: str) -> str:
    """A label as Mermaid renders it: its entity markers back to HTML entities (mermaid's decodeEntities), unescaped."""
    return html.unescape(text.replace("\ufb02\xb0\xb0", "&#").replace("\ufb02\xb0", "&").replace("\xb6\xdf", ";"))


def expected(picture: Diagram) -> dict[str, Any]:
    ids = picture.ids()
    subgraphs = {n.key for n in picture.nodes if n.subgraph}
    return {
        "vertices": {ids[n.key]: n.label for n in picture.nodes if not n.subgraph},
        "subgraphs": {
            ids[s]: (picture.labels()[s], sorted(ids[n.key] for n in picture.nodes if n.container == s))
            for s in subgraphs
        },
        "edges": sorted((ids[e.source], ids[e.target], e.label) for e in picture.edges),
    }


def seen(result: dict[str, Any]) -> dict[str, Any]:
    subgraph_ids = {s["id"] for s in result["subgraphs"]}
    return {
        "vertices": {v["id"]: decoded(v["text"]) for v in result["vertices"] if v["id"] not in subgraph_ids},
        "subgraphs": {s["id"]: (decoded(s["title"]), sorted(s["nodes"])) for s in result["subgraphs"]},
        "edges": sorted((e["start"], e["end"], decoded(e["text"])) for e in result["edges"]),
    }


def test_mermaid_reads_the_diagrams_as_drawn():
    pictures = [Diagram.of(plan_of("dev")), Diagram.of(plan_of("prod")), Diagram.of(hostile_plan())]
    results = parsed(["\n".join(p.lines()) + "\n" for p in pictures])
    for picture, result in zip(pictures, results, strict=True):
        assert "error" not in result, result.get("error")
        assert result["type"] == "flowchart-v2"
        assert seen(result) == expected(picture)


def test_mermaid_rejects_an_unescaped_quote():
    (result,) = parsed(['flowchart LR\n  n_a["say"hi"] --> n_b\n'])
    assert "Parse error on line 2" in result["error"]


# --- the README's block -----------------------------------------------------------------------------------------


def test_the_readme_block_is_current():
    text = diagram.README.read_text()
    assert replace_block(text, "dev", markdown_block(plan_of("dev"))) == text
    start, end = markers("dev")
    assert text.count(start) == 1
    assert text.count(end) == 1


def test_check_and_write_readme(tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    start, end = markers("dev")
    readme.write_text(f"# x\n{start}\nold\n{end}\ntail\n")
    monkeypatch.setattr(diagram, "README", readme)
    monkeypatch.setattr(diagram, "plan_or_error", lambda args: plan_of(args.stack, args.mode))
    assert diagram.main(["--check-readme"]) == diagram.EXIT_STALE
    assert "the dev diagram is stale" in capsys.readouterr().err
    assert diagram.main(["--write-readme"]) == diagram.EXIT_OK
    assert readme.read_text() == "\n".join(["# x", start, *markdown_block(plan_of("dev")), end, "tail", ""])
    assert diagram.main(["--check-readme"]) == diagram.EXIT_OK
    assert diagram.main(["--check-readme", "--stack", "prod"]) == diagram.EXIT_ERROR  # no prod block
    assert "needs exactly one <!-- diagram:prod:start --> line" in capsys.readouterr().err
    assert diagram.main(["--stack", "dev"]) == diagram.EXIT_OK
    assert capsys.readouterr().out == "\n".join(mermaid(plan_of("dev"))) + "\n"


def test_replace_block_needs_one_ordered_pair():
    start, end = markers("dev")
    with pytest.raises(ValueError, match="exactly one"):
        replace_block(f"{end}\n{start}\n", "dev", [])
    with pytest.raises(ValueError, match="exactly one"):
        replace_block(f"{start}\n{end}\n{start}\n", "dev", [])
    assert replace_block(f"a\n{start}\nx\ny\n{end}\nb", "dev", ["z"]) == f"a\n{start}\nz\n{end}\nb"
