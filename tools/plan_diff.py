"""The offline plan of a stack against a base commit: what ``pulumi preview`` would create, update, replace, delete.

``plan_of_commit(ref, stack, mode, project_dir)`` extracts the base commit's tree (``git archive``, nothing in the
checkout changes) and runs its ``__main__.py`` for the stack under the same mocks as the head (`tools.harness`),
with the base commit's stack file. ``diff_plans(base, head)`` then matches resources by URN (a head resource's
aliases match the base URNs they name, as the engine does) and derives each step's operation the way the engine
does from the provider's answer:

* ``create``: a head URN with no base resource; ``delete``: a base URN no head resource matches;
* ``update``: a matched resource whose inputs differ; ``replace``: one where a changed input is a replace-on-change
  property of its type (`tools.replace_rules`), is named by its ``replaceOnChanges`` option, whose
  ``replacementTrigger`` value changed (or is unknown until apply), or whose provider is replaced;
* a resource replaced or created has unknown outputs until apply, so an input of a dependent taking one of them
  changes too: an update, or a replace when that input is replace-on-change (a subnet's new CIDR replaces the
  subnet, and with it the node groups in it). `diff_against` finds those inputs as the engine does: it previews the
  head with the resources the base holds answering known outputs and the others (created, replaced) unknown ones,
  again without the replaced ones until no more are replaced;
* ``same``: nothing differs.

A step that deletes or replaces a ``protect``-ed resource is flagged: the engine refuses it. Values of secret inputs
are never shown (``[secret]``), as in the CLI's ``--json`` (``MassageSecrets``).

``preview_steps`` / ``change_summary`` shape the result like ``pulumi preview --json`` (the ``PreviewDigest`` of
pulumi/pulumi sdk/go/common/display/json.go: ``steps`` of ``op``, ``urn``, ``oldState``, ``newState``,
``diffReasons``, ``replaceReasons``, ``detailedDiff``; ``changeSummary`` counts by op), so tools written for the
real preview read it.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml

from tools.harness import (
    REDACTED,
    STACK_TYPE,
    UNKNOWN,
    ConfigurationError,
    Mode,
    Plan,
    Registration,
    is_secret_wrapped,
    redact,
    run_program,
    unwrap,
)
from tools.replace_rules import replacing_paths

#: The step operations of a preview (deploy.StepOp labels), in the order a summary lists them.
OPS: tuple[str, ...] = ("create", "update", "replace", "delete", "same")
#: A summary's signs, as the CLI prints them (``+ 3 to create``, ``+-1 to replace``).
SIGNS: Mapping[str, str] = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " "}
#: Longest value shown for one changed property (longer ones are cut with an ellipsis).
MAX_VALUE = 80

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BaseRefError(ValueError):
    """The base commit cannot be planned (not a commit, no git, its program fails): one line for the user."""


# ---------------------------------------------------------------------------------------------- the base plan


def _git(project_dir: Path, *argv: str) -> subprocess.CompletedProcess[bytes]:
    """``git -C project_dir argv...`` (fixed argv, no shell), its output captured; a missing git is a BaseRefError."""
    try:
        return subprocess.run(["git", "-C", str(project_dir), *argv], capture_output=True, check=False)  # noqa: S603, S607
    except FileNotFoundError as exc:
        msg = "git is not installed"
        raise BaseRefError(msg) from exc


def resolve_commit(ref: str, project_dir: Path) -> str:
    """The full commit id ``ref`` names in ``project_dir``'s repository.

    Raises:
        BaseRefError: not a git checkout, or ``ref`` names no commit.
    """
    done = _git(project_dir, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if done.returncode != 0:
        msg = f"{ref!r} is not a commit of the repository at {project_dir}"
        raise BaseRefError(msg)
    return done.stdout.decode().strip()


def extract_commit(commit: str, project_dir: Path, destination: Path) -> Path:
    """``commit``'s tree written to ``destination`` (``git archive``; the checkout and its index are untouched)."""
    done = _git(project_dir, "archive", "--format=tar", commit)
    if done.returncode != 0:
        msg = f"git archive {commit[:12]} failed: {done.stderr.decode().strip()}"
        raise BaseRefError(msg)
    with tarfile.open(fileobj=BytesIO(done.stdout)) as tar:
        tar.extractall(destination, filter="data")
    return destination


def plan_of_commit(
    ref: str, stack: str, mode: Mode, project_dir: Path, *, existing: Iterable[str] = (), updated: Iterable[str] = ()
) -> tuple[str, Plan | None]:
    """The commit id of ``ref`` and its plan of ``stack`` (None when that commit has no ``Pulumi.<stack>.yaml``).

    ``existing``: as for `run_program` (a preview of a stack whose state holds those URNs).

    Raises:
        BaseRefError: ``ref`` is not a commit, or the base commit's program refuses its own stack file.
    """
    commit = resolve_commit(ref, project_dir)
    with tempfile.TemporaryDirectory(prefix="plan-base-") as tmp:
        base_dir = extract_commit(commit, project_dir, Path(tmp))
        if not (base_dir / f"Pulumi.{stack}.yaml").is_file():
            return commit, None
        try:
            return commit, run_program(stack, mode, base_dir, existing=existing, updated=updated)
        except ConfigurationError as exc:
            msg = f"the base commit {commit[:12]} does not plan: {exc.message}"
            raise BaseRefError(msg) from exc


# ---------------------------------------------------------------------------------------------- the diff


@dataclass(frozen=True)
class Change:
    """One changed input property: its path, old and new wire values, and why it matters."""

    path: str
    old: Any
    new: Any
    replaces: bool = False

    @property
    def unknown(self) -> bool:
        """The new value is unknown until apply: the input takes an output of a replaced or created resource."""
        return _has_unknown(self.new)

    @property
    def kind(self) -> str:
        """The ``detailedDiff`` kind: ``add``, ``delete`` or ``update``, with ``-replace`` when it replaces."""
        base = "add" if self.old is _ABSENT else "delete" if self.new is _ABSENT else "update"
        return f"{base}-replace" if self.replaces else base


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Step:
    """What the engine would do to one resource."""

    op: str
    old: Registration | None
    new: Registration | None
    changes: tuple[Change, ...] = ()
    #: Why it is replaced, beyond its replacing changes (its provider is replaced, its replaceOnChanges option).
    replace_notes: tuple[str, ...] = ()

    @property
    def registration(self) -> Registration:
        """The head registration, or the base one for a delete."""
        found = self.new or self.old
        assert found is not None  # noqa: S101 - a step has one side at least
        return found

    @property
    def urn(self) -> str:
        """The resource's URN (the head's when it was aliased)."""
        return self.registration.urn

    @property
    def protected(self) -> bool:
        """A delete or replace of a protected resource: the engine refuses it (unprotect it first)."""
        if self.old is None or not self.old.protect:
            return False
        # A replace unprotected in the same change goes through (step_generator.go: old and new both protected).
        return self.op == "delete" or (self.op == "replace" and self.new is not None and self.new.protect)

    @property
    def retained(self) -> bool:
        """A delete of a resource with ``retainOnDelete``: it leaves the stack but stays in AWS."""
        return self.op == "delete" and self.old is not None and self.old.retain_on_delete

    @property
    def delete_first(self) -> str:
        """For a replace: why the old resource goes before its replacement exists (a gap), or "" (create first).

        The ``deleteBeforeReplace`` option; else a fixed physical name the change keeps, which the provider cannot
        hold twice: the Terraform bridge deletes first when an autonamed property was set explicitly
        (pulumi-terraform-bridge ``nameRequiresDeleteBeforeReplace``), the Kubernetes provider when
        ``metadata.name`` is (`FIXED_NAMES`).
        """
        if self.op != "replace" or self.old is None or self.new is None:
            return ""
        if self.new.delete_before_replace:
            return "the deleteBeforeReplace option"
        for key in fixed_name_keys(self.new.type):
            new_name, old_name = _lookup(self.new.inputs, key), _lookup(self.old.inputs, key)
            if isinstance(new_name, str) and new_name == old_name and new_name != UNKNOWN:
                return f"its fixed name {new_name!r} ({key})"
        return ""

    @property
    def replace_reasons(self) -> list[str]:
        """Top-level input keys whose change replaces the resource (the CLI's ``replaceReasons``)."""
        return sorted({_top(change.path) for change in self.changes if change.replaces})

    @property
    def diff_reasons(self) -> list[str]:
        """Top-level input keys that differ (the CLI's ``diffReasons``)."""
        return sorted({_top(change.path) for change in self.changes})


@dataclass(frozen=True)
class PlanDiff:
    """Every step from the base plan (``base_ref`` at ``commit``) to the head plan, in URN order."""

    base_ref: str
    commit: str
    steps: tuple[Step, ...]
    #: The base commit had no stack file for this stack: everything is created.
    new_stack: bool = False

    def count(self) -> dict[str, int]:
        """Steps by op (every op of `OPS`, zeros included)."""
        counts = dict.fromkeys(OPS, 0)
        for step in self.steps:
            counts[step.op] += 1
        return counts

    def changed(self) -> list[Step]:
        """The steps that do something (not ``same``)."""
        return [step for step in self.steps if step.op != "same"]

    def blocked(self) -> list[Step]:
        """Steps the engine refuses: deletes and replaces of protected resources."""
        return [step for step in self.steps if step.protected]


#: The input holding a resource's physical name where the program sets it (the providers' autonamed property), by
#: type; Kubernetes kinds all use ``metadata.name``. A replace that keeps the name deletes first (`Step.delete_first`).
FIXED_NAMES: Mapping[str, str] = {
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupName",
    "aws:eks/cluster:Cluster": "name",
    "aws:iam/role:Role": "name",
    "aws:iam/policy:Policy": "name",
    "aws:iam/instanceProfile:InstanceProfile": "name",
    "aws:iam/rolePolicy:RolePolicy": "name",
    "aws:ec2/securityGroup:SecurityGroup": "name",
    "aws:ec2/launchTemplate:LaunchTemplate": "name",
    "aws:sqs/queue:Queue": "name",
    "aws:kms/alias:Alias": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "kubernetes:helm.sh/v3:Release": "name",
}


def fixed_name_keys(type_token: str) -> tuple[str, ...]:
    """The dotted input paths naming a resource of ``type_token`` physically (`FIXED_NAMES`)."""
    if type_token in FIXED_NAMES:
        return (FIXED_NAMES[type_token],)
    return ("metadata.name",) if type_token.startswith("kubernetes:") else ()


def _lookup(inputs: Mapping[str, Any], dotted: str) -> Any:  # noqa: ANN401 - any wire value
    value: Any = inputs
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _key_path(prefix: str, key: str) -> str:
    if _IDENTIFIER.match(key):
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key)}]"


def property_changes(old: Any, new: Any, path: str = "") -> Iterator[Change]:  # noqa: ANN401 - wire values
    """The leaf differences between two wire values; a secret differs as a whole and is reported masked."""
    if is_secret_wrapped(old) or is_secret_wrapped(new):
        if unwrap(old) != unwrap(new):
            yield Change(path, REDACTED if old is not _ABSENT else _ABSENT, REDACTED if new is not _ABSENT else _ABSENT)
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            yield from property_changes(old.get(key, _ABSENT), new.get(key, _ABSENT), _key_path(path, key))
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from property_changes(before, after, f"{path}[{index}]")
        return
    if old != new:
        yield Change(path, old, new)


def alias_urns(registration: Registration, stack: str, project: str) -> set[str]:
    """The URNs ``registration``'s aliases name (``{"urn": ...}`` or a spec of name, type, parent, stack, project)."""
    found: set[str] = set()
    for alias in registration.aliases:
        if "urn" in alias:
            found.add(str(alias["urn"]))
            continue
        spec = alias.get("spec", alias)
        name = spec.get("name") or registration.name
        type_ = spec.get("type") or registration.type
        parent = "" if spec.get("noParent") else spec.get("parentUrn") or registration.parent
        found.add(_urn(spec.get("stack") or stack, spec.get("project") or project, parent, type_, name))
    return found


def _urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _provider_urn(reference: str) -> str:
    return reference.rsplit("::", 1)[0] if reference else ""


def all_aliases(head: Plan) -> dict[str, set[str]]:
    """Every head URN's alias URNs: its own, and those its parent's aliases give it.

    A child inherits one alias per alias of its parent: the same type under the parent's old URN, its name's prefix
    the parent's old name where it began with the parent's name (the SDKs' inheritedChildAlias), so renaming a
    component with an alias moves its children too.
    """
    by_urn = {r.urn: r for r in head.resources}
    found: dict[str, set[str]] = {}

    def of(registration: Registration) -> set[str]:
        if registration.urn in found:
            return found[registration.urn]
        own = alias_urns(registration, head.stack, head.project)
        parent = by_urn.get(registration.parent)
        if parent is not None:
            parent_name = parent.name
            for parent_alias in of(parent):
                alias_name = parent_alias.rsplit("::", 1)[-1]
                name = registration.name
                if name.startswith(parent_name):
                    name = alias_name + name.removeprefix(parent_name)
                own.add(_urn(head.stack, head.project, parent_alias, registration.type, name))
        found[registration.urn] = own
        return own

    for registration in head.resources:
        of(registration)
    return found


def match(base: Plan | None, head: Plan) -> dict[str, Registration]:
    """Head URN -> the base registration it continues: the same URN, else the first base URN its aliases name."""
    old_by_urn = {r.urn: r for r in base.resources} if base is not None else {}
    aliases = all_aliases(head)
    matched: dict[str, Registration] = {}
    for registration in head.resources:
        if registration.urn in old_by_urn:
            matched[registration.urn] = old_by_urn[registration.urn]
            continue
        for urn in sorted(aliases[registration.urn]):
            if urn in old_by_urn:
                matched[registration.urn] = old_by_urn[urn]
                break
    return matched


def diff_plans(base: Plan | None, head: Plan, *, base_ref: str = "", commit: str = "") -> PlanDiff:
    """Every step from ``base`` (None: a stack the base commit did not have) to ``head``, from their inputs alone.

    ``head`` is best a preview whose mocks answered the resources kept from ``base`` with known outputs
    (`diff_against` runs it so): an input taking an output of a created or replaced resource is then unknown exactly
    where the real preview has it unknown.
    """
    old_by_urn = {r.urn: r for r in base.resources} if base is not None else {}
    matched = match(base, head)
    head_by_urn = {r.urn: r for r in head.resources}
    decided: dict[str, Step] = {}

    def step_of(urn: str) -> Step:
        if urn not in decided:
            decided[urn] = _step(head_by_urn[urn], matched.get(urn), step_of, head_by_urn)
        return decided[urn]

    steps = [step_of(r.urn) for r in head.resources]
    used = {old.urn for old in matched.values()}
    steps += [Step("delete", old, None) for urn, old in old_by_urn.items() if urn not in used]
    ordered = tuple(sorted(steps, key=lambda s: s.urn))
    return PlanDiff(base_ref, commit, ordered, new_stack=base is None)


#: Previews of the head a diff may take to settle which resources are replaced (each pass only adds some).
MAX_PASSES = 8


def diff_against(
    base: Plan | None,
    run_head: Callable[[frozenset[str], frozenset[str]], Plan],
    *,
    base_ref: str = "",
    commit: str = "",
) -> PlanDiff:
    """The diff from ``base`` to the head as the engine previews it over a stack deployed from ``base``.

    ``run_head(existing, updated)`` previews the head with the URNs in ``existing`` answering known outputs (the
    state's), those also in ``updated`` without the outputs an update recomputes, and every other resource as a
    create. A first pass keeps every base URN; each further pass drops the resources the last one found replaced and
    marks those it found updated, whose outputs the real preview does not know either, until nothing more changes.
    """
    existing = frozenset(r.urn for r in base.resources) if base is not None else frozenset()
    updated: frozenset[str] = frozenset()
    for _ in range(MAX_PASSES):
        head = run_head(existing, updated)
        diff = diff_plans(base, head, base_ref=base_ref, commit=commit)
        kept = frozenset(match(base, head)) - {step.urn for step in diff.steps if step.op == "replace"}
        changed = frozenset(step.urn for step in diff.steps if step.op == "update")
        if kept == existing and changed == updated:
            return diff
        existing, updated = kept, changed
    msg = f"the replaced resources did not settle in {MAX_PASSES} previews"
    raise BaseRefError(msg)


def _step(
    new: Registration,
    old: Registration | None,
    step_of: Callable[[str], Step],
    head_by_urn: Mapping[str, Registration],
) -> Step:
    if old is None:
        return Step("create", None, new)
    if not new.custom:
        return Step("same", old, new)
    changes = {
        change.path: change
        for change in property_changes(old.inputs, new.inputs)
        # ignoreChanges: the engine diffs the old value at those paths (step_generator.go processIgnoreChanges).
        if not any(covers(rule, change.path) for rule in new.ignore_changes)
    }
    replacing = set(replacing_paths(new.type, changes))
    if new.type == K8S_PROVIDER and "kubeconfig" in replacing and same_cluster(old.inputs, new.inputs):
        # pulumi-kubernetes DiffConfig replaces only when the kubeconfig is unknown or its current cluster changes.
        replacing.discard("kubeconfig")
    replacing.update(path for path in changes if any(covers(rule, path) for rule in new.replace_on_changes))
    notes: list[str] = []
    if trigger_replaces(old.replacement_trigger, new.replacement_trigger):
        notes.append("its replacementTrigger changed")
    provider = _provider_urn(new.provider)
    if provider in head_by_urn and step_of(provider).op == "replace":
        notes.append(f"its provider {provider.rsplit('::', 1)[-1]} is replaced")
    final = tuple(Change(c.path, c.old, c.new, replaces=c.path in replacing) for _, c in sorted(changes.items()))
    if replacing or notes:
        return Step("replace", old, new, final, tuple(notes))
    return Step("update" if final else "same", old, new, final)


K8S_PROVIDER = "pulumi:providers:kubernetes"


def path_segments(path: str) -> list[str]:
    """``a.b[0]["x.y"]`` -> ``["a", "b", "0", "x.y"]`` (a property path as the engine's PropertyPath parses it)."""
    segments: list[str] = []
    for match in re.finditer(r'\[("(?:[^"\\]|\\.)*")\]|\[([^\]]*)\]|([^.\[\]]+)', path):
        quoted, index, plain = match.groups()
        segments.append(json.loads(quoted) if quoted else index if index is not None else plain)
    return segments


def covers(rule: str, path: str) -> bool:
    """Whether option path ``rule`` (``replaceOnChanges``, ``ignoreChanges``) names ``path`` or a path above it.

    ``*`` matches any one segment, and ``*`` alone every property (PropertyPath.Contains in pulumi/pulumi
    sdk/go/common/resource/property_path.go).
    """
    wanted, actual = path_segments(rule), path_segments(path)
    if wanted == ["*"]:
        return True
    return len(wanted) <= len(actual) and all(w in {"*", a} for w, a in zip(wanted, actual, strict=False))


def trigger_replaces(old: Any, new: Any) -> bool:  # noqa: ANN401 - wire values
    """The ``replacementTrigger`` rule: set on both sides and different (secrets compared by value) or unknown.

    Adding or removing a trigger replaces nothing (step_generator.go shouldTriggerReplace).
    """
    if old is None or new is None:
        return False
    return _has_unknown(new) or unwrap(old) != unwrap(new)


def _current_cluster(inputs: Mapping[str, Any]) -> Any:  # noqa: ANN401 - a kubeconfig's cluster entry
    text = unwrap(inputs.get("kubeconfig"))
    if not isinstance(text, str) or UNKNOWN in text:
        return UNKNOWN
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(config, dict):
        return text
    contexts = {c.get("name"): c.get("context", {}) for c in config.get("contexts") or [] if isinstance(c, dict)}
    clusters = {c.get("name"): c.get("cluster", {}) for c in config.get("clusters") or [] if isinstance(c, dict)}
    current = contexts.get(inputs.get("context") or config.get("current-context"), {})
    cluster = clusters.get(inputs.get("cluster") or current.get("cluster"), {})
    return (cluster.get("server"), cluster.get("certificate-authority-data"))


def same_cluster(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two Kubernetes provider configs reach the same cluster (server and CA of the current context)."""
    before, after = _current_cluster(old), _current_cluster(new)
    return bool(after != UNKNOWN and before == after)


def _has_unknown(value: Any) -> bool:  # noqa: ANN401 - any wire value
    if isinstance(value, dict):
        return any(_has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_unknown(item) for item in value)
    return bool(value == UNKNOWN)


# ---------------------------------------------------------------------------------------------- rendering


def summary_line(counts: Mapping[str, int]) -> str:
    """``Resources: + 3 to create, ~ 1 to update, +-2 to replace, - 1 to delete, 140 unchanged`` (non-zero ops)."""
    parts = [f"{SIGNS[op]}{counts[op]:>2} to {op}" for op in OPS[:-1] if counts.get(op)]
    parts.append(f"{counts.get('same', 0)} unchanged")
    return "Resources: " + ", ".join(part.strip() if part.startswith(" ") else part for part in parts)


def show_value(value: Any) -> str:  # noqa: ANN401 - any wire value
    """One changed value as text: secrets masked, unknowns as ``(known after apply)``, long values cut."""
    if value is _ABSENT:
        return "(none)"
    if value == UNKNOWN:
        return "(known after apply)"
    text = json.dumps(_integral(redact(value)), sort_keys=True) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _integral(value: Any) -> Any:  # noqa: ANN401 - any JSON value
    """Wire numbers are floats: ``2.0`` shows as ``2``, as the CLI prints it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


def describe_change(change: Change) -> str:
    """``path: old -> new`` with ``(replaces)`` when the change forces replacement."""
    mark = " (forces replacement)" if change.replaces else ""
    return f"{change.path}: {show_value(change.old)} -> {show_value(change.new)}{mark}"


def _label(step: Step) -> str:
    registration = step.registration
    return f"{registration.type} {registration.name}"


def render_text(diff: PlanDiff) -> list[str]:
    """The changes as plain lines: one per changed resource, its changed properties indented, then the total."""
    header = f"Changes against {diff.base_ref} ({diff.commit[:12]})" + (
        ": the base commit has no stack file for this stack, everything is created" if diff.new_stack else ""
    )
    lines = [header]
    for step in diff.changed():
        warning = "  [BLOCKED: protected]" if step.protected else "  [retained in AWS]" if step.retained else ""
        lines.append(f"  {SIGNS[step.op]:<2} {step.op:<7} {_label(step)}{warning}")
        lines.extend(f"        {describe_change(change)}" for change in step.changes)
        lines.extend(f"        replaced because {note}" for note in step.replace_notes)
        if step.delete_first:
            lines.append(f"        deleted first, because of {step.delete_first}: a gap until the replacement is up")
    lines.append(summary_line(diff.count()))
    return lines


def render_markdown(diff: PlanDiff, max_rows: int | None = None) -> list[str]:
    """The changes for a PR comment: the total, protected resources first, replaces, then every change.

    ``max_rows`` caps the table of every change (the rest is counted; ``--json`` holds them all), for a comment that
    must stay under GitHub's size limit.
    """
    counts = diff.count()
    lines = [f"#### Changes against `{diff.base_ref}` (`{diff.commit[:12]}`)", ""]
    if diff.new_stack:
        lines += ["The base commit has no stack file for this stack: everything is created.", ""]
    lines += [f"**{summary_line(counts)}**", ""]
    lines += ["| Op | Count |", "| --- | ---: |"]
    lines += [f"| {op} | {counts[op]} |" for op in OPS]
    blocked = diff.blocked()
    if blocked:
        lines += ["", "> [!CAUTION]", "> The engine refuses these: each deletes or replaces a protected resource."]
        lines += [f"> - **{step.op}** `{_label(step)}`" for step in blocked]
    replaced = [step for step in diff.steps if step.op == "replace"]
    if replaced:
        lines += ["", "> [!WARNING]", "> Replaced (deleted and created anew):"]
        for step in replaced:
            why = ", ".join([*step.replace_reasons, *step.replace_notes]) or "replace-on-change input"
            gap = (
                f"; **deleted first** ({step.delete_first}): a gap until the replacement is up"
                if step.delete_first
                else ""
            )
            lines.append(f"> - `{_label(step)}`: {_md(why)}{_md(gap)}")
    changed = diff.changed()
    if changed:
        lines += ["", f"<details><summary>Every change ({len(changed)} resources)</summary>", ""]
        lines += ["| Op | Resource | Changed properties |", "| --- | --- | --- |"]
        shown = changed if max_rows is None else changed[:max_rows]
        for step in shown:
            detail = "<br>".join(_md(describe_change(change)) for change in step.changes) or "—"
            lines.append(f"| {step.op} | `{_md(_label(step))}` | {detail} |")
        if len(shown) < len(changed):
            lines += [
                "",
                f"… and {len(changed) - len(shown)} more changes: every step is in the plan's JSON (`steps`).",
            ]
        lines += ["", "</details>"]
    return lines


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------------------------------- preview --json


def _state(registration: Registration) -> dict[str, Any]:
    """A ResourceV3-shaped state (apitype), secrets ``[secret]`` as ``stateForJSONOutput`` writes them."""
    state: dict[str, Any] = {
        "urn": registration.urn,
        "custom": registration.custom,
        "type": registration.type,
        "inputs": _integral(redact(registration.inputs)),
        "outputs": _integral(redact(registration.outputs)),
        "protect": registration.protect,
    }
    if registration.id:
        state["id"] = registration.id
    optional = {
        "parent": registration.parent,
        "provider": registration.provider,
        "dependencies": registration.dependencies,
        "propertyDependencies": registration.property_dependencies,
        "retainOnDelete": registration.retain_on_delete,
        "importID": registration.import_id,
        "ignoreChanges": registration.ignore_changes,
        "replaceOnChanges": registration.replace_on_changes,
    }
    state |= {key: value for key, value in optional.items() if value}
    return state


def _shown(step: Step) -> bool:
    """What ``pulumi preview --json`` lists (no --show-sames): every change, the stack, a same that (un)protects."""
    if step.op != "same" or step.registration.type == STACK_TYPE:
        return True
    return step.old is not None and step.new is not None and step.old.protect != step.new.protect


def preview_steps(steps: Sequence[Step]) -> list[dict[str, Any]]:
    """``steps`` as ``pulumi preview --json`` lists them (PreviewStep: op, urn, provider, states, reasons, diff).

    Sames are left out as the CLI leaves them out (display.go shouldShow); `change_summary` still counts them.
    """
    shaped: list[dict[str, Any]] = []
    for step in filter(_shown, steps):
        item: dict[str, Any] = {"op": step.op, "urn": step.urn}
        if step.registration.provider:
            item["provider"] = step.registration.provider
        if step.old is not None and step.op != "create":
            item["oldState"] = _state(step.old)
        if step.new is not None:
            item["newState"] = _state(step.new)
        if step.op == "replace" and any(note.startswith("its provider ") for note in step.replace_notes):
            # The engine replaces it for its provider without asking the resource's Diff: no property diff.
            item["replaceReasons"] = ["provider"]
            item["detailedDiff"] = None
            shaped.append(item)
            continue
        if step.diff_reasons:
            item["diffReasons"] = step.diff_reasons
        if step.replace_reasons:
            item["replaceReasons"] = step.replace_reasons
        item["detailedDiff"] = (
            {change.path: {"kind": change.kind, "inputDiff": True} for change in step.changes} if step.changes else None
        )
        shaped.append(item)
    return shaped


def change_summary(steps: Sequence[Step]) -> dict[str, int]:
    """Steps by op, only the ops that occur (the CLI's ``changeSummary`` map)."""
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.op] = counts.get(step.op, 0) + 1
    return dict(sorted(counts.items()))


def creation_steps(plan: Plan) -> list[Step]:
    """Every resource of ``plan`` as a create: the preview of a stack that has no state yet (no ``--base``)."""
    return [Step("create", None, registration) for registration in sorted(plan.resources, key=lambda r: r.urn)]
