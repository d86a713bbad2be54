"""Real linters over the captured graph: parliament for IAM documents, kubernetes-validate for manifests.

* Every IAM policy document the program declares (role trust policies, inline and managed policies, KMS key
  policies, SQS queue policies) is written to a temporary directory and linted by ``parliament --directory``
  (its ``--file`` mode reads stdin unless that is a terminal). Findings of severity MEDIUM or above fail, unless
  an entry of `PARLIAMENT_ALLOWED` explains why that finding is wrong for that document (each entry is
  narrow, re-checks the finding, and carries its reason; the check itself is never dropped).
* Every Kubernetes object of a built-in kind that the program declares itself (``kubernetes:<group>/<v>:<Kind>``
  of the core API groups; not Helm releases, not custom resources) is validated by ``kubernetes-validate
  --strict`` against the cluster's Kubernetes version. Every error fails.

Both run as subprocesses started together (`start_linters`), so they overlap the policy pack's analysis.
"""

from __future__ import annotations

import fnmatch
import json
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.harness import REPO_ROOT, Plan

SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
FAILING = frozenset({"MEDIUM", "HIGH", "CRITICAL"})
DEFAULT_TIMEOUT = 120.0
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - the wire signature of secret values
SIG_KEY = "4dabf18193072939515e22adb298388d"
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)
REDACTED = "redacted"

#: Documents per type: (input key, kind). Kinds: identity (attached to a principal), trust, resource.
IAM_DOCUMENT_INPUTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "aws:iam/role:Role": (("assumeRolePolicy", "trust"),),
    "aws:iam/rolePolicy:RolePolicy": (("policy", "identity"),),
    "aws:iam/userPolicy:UserPolicy": (("policy", "identity"),),
    "aws:iam/groupPolicy:GroupPolicy": (("policy", "identity"),),
    "aws:iam/policy:Policy": (("policy", "identity"),),
    "aws:kms/key:Key": (("policy", "resource"),),
    "aws:sqs/queue:Queue": (("policy", "resource"),),
    "aws:sqs/queuePolicy:QueuePolicy": (("policy", "resource"),),
    "aws:s3/bucketPolicy:BucketPolicy": (("policy", "resource"),),
}
#: API groups whose kinds kubernetes-validate knows (``core`` is the token's name for the legacy group).
BUILTIN_GROUPS = frozenset(
    {
        "core",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)
_K8S_TOKEN = re.compile(r"^kubernetes:(?P<group>[a-z0-9.-]+)/(?P<version>v[0-9a-z]+):(?P<kind>[A-Za-z]+)$")
_EKS_OIDC_PROVIDER = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[0-9A-Za-z]+$"
)
_KV_LINE = re.compile(r"^(?P<level>INFO|WARN|ERROR) (?P<file>\S+) (?P<text>.*)$")


@dataclass(frozen=True)
class IamDocument:
    """An IAM policy document of the graph: where it is, what kind of policy, its JSON text."""

    urn: str
    label: str
    kind: str
    text: str

    @property
    def parsed(self) -> dict[str, Any]:
        """The document as data (empty if it is not a JSON object)."""
        data = json.loads(self.text)
        return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Manifest:
    """A Kubernetes object the program declares, as kubernetes-validate reads it."""

    urn: str
    data: dict[str, Any]


@dataclass(frozen=True, order=True)
class Finding:
    """One linter finding; ``allowed`` holds the allow-list reason when it does not count."""

    linter: str
    severity: str
    urn: str
    subject: str
    issue: str
    message: str
    allowed: str = ""

    @property
    def failing(self) -> bool:
        """MEDIUM or above and not allow-listed."""
        return self.severity in FAILING and not self.allowed

    def to_json(self) -> dict[str, str]:
        """All fields, ``allowed`` empty when the finding counts."""
        return {
            "linter": self.linter,
            "severity": self.severity,
            "urn": self.urn,
            "subject": self.subject,
            "issue": self.issue,
            "message": self.message,
            "allowed": self.allowed,
        }


@dataclass
class LintReport:
    """What the linters found over one plan."""

    iam_documents: int
    manifests: int
    kubernetes_version: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def failing(self) -> list[Finding]:
        """Findings that fail the run."""
        return [f for f in self.findings if f.failing]

    def headline(self) -> str:
        """What ran on how much: ``Linters: parliament on 6 IAM documents, kubernetes-validate --strict ...``."""
        return (
            f"Linters: parliament on {self.iam_documents} IAM documents, kubernetes-validate --strict "
            f"(Kubernetes {self.kubernetes_version}) on {self.manifests} manifests"
        )

    def allow_listed(self) -> dict[str, int]:
        """Findings that would fail but are allow-listed, counted by ``issue (reason)``."""
        allowed: dict[str, int] = {}
        for finding in self.findings:
            if finding.severity in FAILING and finding.allowed:
                key = f"{finding.issue} ({finding.allowed})"
                allowed[key] = allowed.get(key, 0) + 1
        return dict(sorted(allowed.items()))

    def summary_line(self) -> str:
        """``Linter findings: 0 failing, 5 allow-listed, 12 below MEDIUM``."""
        below = sum(1 for f in self.findings if f.severity not in FAILING)
        return (
            f"Linter findings: {len(self.failing)} failing, {sum(self.allow_listed().values())} allow-listed, "
            f"{below} below MEDIUM"
        )

    def to_json(self) -> dict[str, Any]:
        """The ``"lint"`` section of ``tools.plan --json``."""
        return {
            "iamDocuments": self.iam_documents,
            "manifests": self.manifests,
            "kubernetesVersion": self.kubernetes_version,
            "findings": [f.to_json() for f in sorted(self.findings)],
        }


# --- what to lint ----------------------------------------------------------------------------------------


def _unwrap(value: object, *, redact: bool) -> Any:  # noqa: ANN401 - wire data of any shape
    """Wire values as plain data: secrets unwrapped (their strings redacted), unknown values as None."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            inner = _unwrap(value.get("value"), redact=redact)
            return _redact(inner) if redact else inner
        return {k: v for k, item in value.items() if (v := _unwrap(item, redact=redact)) is not None}
    if isinstance(value, list):
        return [v for item in value if (v := _unwrap(item, redact=redact)) is not None]
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return None
    return value


def _redact(value: object) -> object:
    if isinstance(value, str):
        return REDACTED
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _json_text(value: object) -> str | None:
    text = _unwrap(value, redact=False)
    if isinstance(text, dict):
        return json.dumps(text)
    if not isinstance(text, str) or any(sentinel in text for sentinel in UNKNOWN_SENTINELS):
        return None
    try:
        return text if isinstance(json.loads(text), dict) else None
    except ValueError:
        return None


def iam_documents(plan: Plan) -> list[IamDocument]:
    """Every known IAM policy document in the graph (unknown ones, during preview, are left out)."""
    found = []
    for reg in plan.resources:
        for key, kind in IAM_DOCUMENT_INPUTS.get(reg.type, ()):
            text = _json_text(reg.inputs.get(key))
            if text is not None:
                found.append(IamDocument(reg.urn, key, kind, text))
        if reg.type == "aws:iam/role:Role":
            for index, entry in enumerate(reg.inputs.get("inlinePolicies") or []):
                text = _json_text(entry.get("policy")) if isinstance(entry, dict) else None
                if text is not None:
                    found.append(IamDocument(reg.urn, f"inlinePolicies[{entry.get('name', index)}]", "identity", text))
    return found


def builtin_kind(type_token: str) -> tuple[str, str] | None:
    """(apiVersion, kind) when a ``kubernetes:`` token is a built-in kind (not a list, patch or CR)."""
    match = _K8S_TOKEN.match(type_token)
    if match is None or match["group"] not in BUILTIN_GROUPS:
        return None
    kind = match["kind"]
    if kind.endswith(("List", "Patch")):
        return None
    api_version = match["version"] if match["group"] == "core" else f"{match['group']}/{match['version']}"
    return api_version, kind


def kubernetes_manifests(plan: Plan) -> list[Manifest]:
    """Objects of built-in kinds the program declares, secrets redacted, unknown values left out."""
    manifests = []
    for reg in plan.resources:
        kind = builtin_kind(reg.type) if reg.custom else None
        if kind is None:
            continue
        data = _unwrap(reg.inputs, redact=True)
        data.setdefault("apiVersion", kind[0])
        data.setdefault("kind", kind[1])
        manifests.append(Manifest(reg.urn, data))
    return manifests


def default_kubernetes_version(project_dir: Path = REPO_ROOT) -> str:
    """``DEFAULT_KUBERNETES_VERSION`` of the project's ``components/versions.py``.

    Read with `runpy`, not imported: an imported ``components`` package would be reused by later program runs
    of another project directory (``--project-dir``) in the same process.
    """
    namespace = runpy.run_path(str(Path(project_dir) / "components" / "versions.py"))
    return str(namespace["DEFAULT_KUBERNETES_VERSION"])


def kubernetes_version(plan: Plan, project_dir: Path = REPO_ROOT) -> str:
    """The cluster's Kubernetes version in the plan (else the project's default version)."""
    versions = {
        str(reg.inputs["version"])
        for reg in plan.resources
        if reg.type == "aws:eks/cluster:Cluster" and isinstance(reg.inputs.get("version"), str)
    } - UNKNOWN_SENTINELS
    return versions.pop() if len(versions) == 1 else default_kubernetes_version(project_dir)


# --- parliament allow-list -------------------------------------------------------------------------------


def arn_covers(resource: str, required: str) -> bool:
    """True when ``resource`` (an ARN or ``*``) falls under ``required`` (parliament's format), field by field."""
    if resource == "*":
        return True
    if required == "*":
        return False
    have, want = resource.split(":", 5), required.split(":", 5)
    return len(have) == len(want) == 6 and all(  # noqa: PLR2004 - an ARN has six fields
        fnmatch.fnmatchcase(part, pattern) for part, pattern in zip(have, want, strict=True)
    )


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def granted_elsewhere(document: Mapping[str, Any], action: str, required: str) -> bool:
    """True when an Allow statement of ``document`` grants ``action`` on a resource matching ``required``."""
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions):
            continue
        if any(isinstance(r, str) and arn_covers(r, required) for r in _as_list(statement.get("Resource"))):
            return True
    return False


def _resource_mismatch_covered(finding: dict[str, Any], document: IamDocument) -> bool:
    details = finding.get("detail")
    if not isinstance(details, list) or not details:
        return False
    parsed = document.parsed
    return all(
        isinstance(d, dict) and granted_elsewhere(parsed, str(d.get("action")), str(d.get("required_format")))
        for d in details
    )


_KMS_ALIAS_CONDITION = re.compile(r"Unknown condition kms:ResourceAliases for action kms:[A-Za-z]+")
_KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-*]+:(\d{12}|\*):key/[\w*-]+")


def _kms_alias_condition_on_keys(finding: dict[str, Any], document: IamDocument) -> bool:
    """The finding is about kms:ResourceAliases, and every statement using it grants on KMS key ARNs only."""
    if not _KMS_ALIAS_CONDITION.fullmatch(str(finding.get("detail"))):
        return False
    using = [
        statement
        for statement in _as_list(document.parsed.get("Statement"))
        if isinstance(statement, dict) and "kms:ResourceAliases" in json.dumps(statement.get("Condition", {}))
    ]
    return bool(using) and all(
        all(isinstance(r, str) and _KMS_KEY_ARN.fullmatch(r) for r in _as_list(statement.get("Resource")))
        for statement in using
    )


@dataclass(frozen=True)
class AllowedFinding:
    """A parliament finding that is wrong for a kind of document; ``applies`` re-checks each occurrence."""

    issue: str
    reason: str
    applies: Callable[[dict[str, Any], IamDocument], bool]


#: Parliament findings that are false positives on valid documents. Each entry is as narrow as possible.
PARLIAMENT_ALLOWED: tuple[AllowedFinding, ...] = (
    # Parliament lints every document as an identity policy. A role's trust policy is a resource policy of the
    # role itself: IAM rejects a Resource element in it, so "no Resource" is the only valid form there.
    AllowedFinding(
        "MALFORMED",
        "trust policies have no Resource element (IAM rejects one)",
        lambda f, doc: doc.kind == "trust" and f.get("detail") == "Statement contains neither Resource nor NotResource",
    ),
    # Parliament's federation patterns (SAML, Cognito, well-known web IdPs) predate IRSA: an EKS cluster's
    # IAM OIDC provider ARN is the documented principal of every IRSA trust policy.
    AllowedFinding(
        "UNKNOWN_FEDERATION_SOURCE",
        "EKS IAM OIDC provider (IRSA) principal",
        lambda f, doc: doc.kind == "trust" and bool(_EKS_OIDC_PROVIDER.match(str(f.get("detail")))),
    ),
    # Parliament matches resources statement by statement and rejects empty ARN fields. Actions that need
    # several resource types (ec2:RunInstances, ec2:CreateFleet) are legitimately granted across statements
    # split by conditions (Karpenter's controller policy), and AWS's public SSM parameters have no account
    # (arn:aws:ssm:<region>::parameter/aws/service/...). Allowed only when every flagged (action, format)
    # is granted by an Allow statement of the same document whose Resource matches the format field by field.
    AllowedFinding(
        "RESOURCE_MISMATCH",
        "every required resource format is granted by a statement of the same document",
        _resource_mismatch_covered,
    ),
    # kms:ResourceAliases (KMS ABAC, 2021) postdates parliament's bundled IAM data. AWS KMS Developer Guide, "Use
    # aliases to control access to KMS keys": the key applies to operations on a KMS key. Allowed only for kms:
    # actions in a statement whose Resource is KMS keys.
    AllowedFinding(
        "UNKNOWN_CONDITION_FOR_ACTION",
        "kms:ResourceAliases on KMS key operations (KMS ABAC, newer than parliament's data)",
        _kms_alias_condition_on_keys,
    ),
)


_ELB_CREATE_ACTION = "Unknown condition elasticloadbalancing:CreateAction for action elasticloadbalancing:AddTags"


def _elb_tag_on_create(finding: dict[str, Any], document: IamDocument) -> bool:
    """The finding is about elasticloadbalancing:CreateAction on AddTags, used only in AddTags-only statements."""
    if str(finding.get("detail")) != _ELB_CREATE_ACTION:
        return False
    using = [
        statement
        for statement in _as_list(document.parsed.get("Statement"))
        if isinstance(statement, dict) and "elasticloadbalancing:CreateAction" in json.dumps(statement.get("Condition"))
    ]
    return bool(using) and all(_as_list(s.get("Action")) == ["elasticloadbalancing:AddTags"] for s in using)


PARLIAMENT_ALLOWED += (
    # elasticloadbalancing:CreateAction (tag-on-create authorisation of ELBv2) postdates parliament's bundled IAM
    # data; the AWS Load Balancer Controller's upstream policy (docs/install/iam_policy.json, components/
    # lb_controller_policy.py) conditions AddTags on it. Allowed only in statements granting AddTags alone.
    AllowedFinding(
        "UNKNOWN_CONDITION_FOR_ACTION",
        "elasticloadbalancing:CreateAction on AddTags (ELB tag-on-create, newer than parliament's data)",
        _elb_tag_on_create,
    ),
)


def allowed_reason(finding: dict[str, Any], document: IamDocument) -> str:
    """The allow-list reason for a parliament finding on ``document`` ('' when it counts)."""
    for entry in PARLIAMENT_ALLOWED:
        if entry.issue == finding.get("issue") and entry.applies(finding, document):
            return entry.reason
    return ""


# --- running the linters ---------------------------------------------------------------------------------


def _tool(name: str) -> str:
    """A console script of this interpreter's environment (else from PATH)."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        msg = f"{name} is not installed (./dev setup installs the dev group of uv.lock into ./venv)"
        raise FileNotFoundError(msg)
    return found


@dataclass
class PendingLint:
    """Linters started on one plan; `finish` waits for them and returns the report."""

    documents: list[IamDocument]
    manifests: list[Manifest]
    version: str
    workdir: tempfile.TemporaryDirectory[str]
    processes: dict[str, subprocess.Popen[str]]
    timeout: float

    def finish(self) -> LintReport:
        """Wait for both linters (killed at the timeout), map their output back to resources, clean up."""
        try:
            outputs = {name: self._wait(name, process) for name, process in self.processes.items()}
        finally:
            for process in self.processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
            self.workdir.cleanup()
        findings = [
            *parliament_findings(outputs.get("parliament", (0, "", "")), self.documents),
            *kubernetes_validate_findings(outputs.get("kubernetes-validate", (0, "", "")), self.manifests),
        ]
        return LintReport(len(self.documents), len(self.manifests), self.version, sorted(findings))

    def cancel(self) -> None:
        """Stop the linters without waiting for their results, and clean up."""
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
            process.communicate()
        self.workdir.cleanup()

    def _wait(self, name: str, process: subprocess.Popen[str]) -> tuple[int, str, str]:
        try:
            stdout, stderr = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return -1, "", f"{name} timed out after {self.timeout:.0f} s"
        return process.returncode, stdout, stderr


def start_linters(plan: Plan, *, project_dir: Path = REPO_ROOT, timeout: float = DEFAULT_TIMEOUT) -> PendingLint:
    """Write the plan's documents and manifests to a temporary directory and start both linters on them."""
    documents, manifests = iam_documents(plan), kubernetes_manifests(plan)
    version = kubernetes_version(plan, project_dir)
    workdir = tempfile.TemporaryDirectory(prefix="plan-lint-")
    root = Path(workdir.name)
    processes: dict[str, subprocess.Popen[str]] = {}
    if documents:
        (root / "iam").mkdir()
        for index, document in enumerate(documents):
            (root / "iam" / f"{index:04d}.json").write_text(document.text, encoding="utf-8")
        command = [_tool("parliament"), "--directory", str(root / "iam"), "--json", "--minimum_severity", "LOW"]
        processes["parliament"] = _spawn(command)
    if manifests:
        (root / "k8s").mkdir()
        paths = []
        for index, manifest in enumerate(manifests):
            path = root / "k8s" / f"{index:04d}.yaml"
            path.write_text(json.dumps(manifest.data, sort_keys=True), encoding="utf-8")
            paths.append(str(path))
        command = [_tool("kubernetes-validate"), "--strict", "--quiet", "-k", version, *paths]
        processes["kubernetes-validate"] = _spawn(command)
    return PendingLint(documents, manifests, version, workdir, processes, timeout)


def _spawn(command: Sequence[str]) -> subprocess.Popen[str]:
    # Console scripts of our own environment, given files we wrote: no untrusted input.
    return subprocess.Popen(  # noqa: S603
        list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def lint_plan(plan: Plan, *, project_dir: Path = REPO_ROOT, timeout: float = DEFAULT_TIMEOUT) -> LintReport:
    """Run both linters over ``plan`` and wait for them."""
    return start_linters(plan, project_dir=project_dir, timeout=timeout).finish()


def _index(path: str) -> int | None:
    stem = Path(path).stem
    return int(stem) if stem.isdigit() else None


def parliament_findings(result: tuple[int, str, str], documents: list[IamDocument]) -> Iterator[Finding]:
    """Parliament's JSON lines as findings on the documents' resources (allow-list applied)."""
    code, stdout, stderr = result
    parsed = 0
    for line in stdout.splitlines():
        try:
            finding = json.loads(line)
        except ValueError:
            continue
        parsed += 1
        index = _index(str(finding.get("location", {}).get("filepath", "")))
        document = documents[index] if index is not None and index < len(documents) else None
        detail = finding.get("detail")
        yield Finding(
            linter="parliament",
            severity=str(finding.get("severity", "HIGH")),
            urn=document.urn if document else "",
            subject=document.label if document else "",
            issue=str(finding.get("issue")),
            message=f"{finding.get('title')}: {json.dumps(detail) if not isinstance(detail, str) else detail}",
            allowed=allowed_reason(finding, document) if document else "",
        )
    if code not in (0, 1) or (code == 1 and not parsed):
        yield Finding("parliament", "HIGH", "", "", "LINTER_ERROR", f"parliament exited {code}: {stderr.strip()}")


def kubernetes_validate_findings(result: tuple[int, str, str], manifests: list[Manifest]) -> Iterator[Finding]:
    """kubernetes-validate's ERROR/WARN lines as findings on the manifests' resources."""
    code, stdout, stderr = result
    errors = 0
    for line in stdout.splitlines():
        match = _KV_LINE.match(line)
        if match is None or match["level"] == "INFO":
            continue
        index = _index(match["file"])
        manifest = manifests[index] if index is not None and index < len(manifests) else None
        severity = "HIGH" if match["level"] == "ERROR" else "LOW"
        errors += match["level"] == "ERROR"
        text = match["text"].replace("did not validate ", "", 1)
        yield Finding(
            "kubernetes-validate",
            severity,
            manifest.urn if manifest else "",
            f"{manifest.data.get('kind')}/{manifest.data.get('metadata', {}).get('name')}" if manifest else "",
            "INVALID" if severity == "HIGH" else "WARNING",
            text,
        )
    if code != 0 and not errors:
        detail = stderr.strip() or stdout.strip()
        yield Finding("kubernetes-validate", "HIGH", "", "", "LINTER_ERROR", f"exited {code}: {detail}")


def render_lint(report: LintReport) -> Iterator[str]:
    """Failing findings in full, allow-listed ones counted by reason, then a one-line summary."""
    yield report.headline()
    for finding in report.failing:
        where = f"{finding.urn or '(no resource)'} {finding.subject}".rstrip()
        yield f"  [{finding.linter}] {finding.severity} {finding.issue}: {where}"
        yield f"      {finding.message}"
    for key, count in report.allow_listed().items():
        yield f"  allow-listed x{count}: {key}"
    yield report.summary_line()
