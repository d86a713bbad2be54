"""Write upstream chart files into the fidelity-data folder from repositories fetched to ``/work/.mirror``.

Each entry of `ENTRIES` names a repository, a tag and a path in it; the output file's first line records that source
(``# owner/repo@tag:path``), as the files already in ``../shared/fidelity-data/`` do. A ``templates`` entry derives
the ``.Values`` paths a chart's templates read (``<path>`` a line, ``<path> toYaml`` where the value is passed whole).
Nothing this writes is committed: the folder is outside the repository. The shared set is read-only, so the output
goes to the first folder of ``$FIDELITY_DATA`` (or ``--out``), which the tests search before the shared set.

    FIDELITY_DATA=../fidelity-extra python -m tools.fidelity_extract [--mirror /work/.mirror] [--only <prefix>]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.fidelity import SHARED_DATA, data_dir


@dataclass(frozen=True)
class Entry:
    """One upstream file (or a chart's templates folder, for ``kind="templates"``).

    ``kind="crd"``: a CRD the chart ships as a template; its Helm directive lines (``{{ ... }}``) are removed.
    """

    repo: str
    ref: str
    path: str
    output: str
    kind: str = "file"


#: Upstream files of the charts and CRDs the platform pins (components/versions.py), by output name.
ENTRIES: tuple[Entry, ...] = (
    # flux2 2.18.3 (Flux 2.8.5) and the CRDs of the controllers it pins (values.yaml image tags).
    Entry("fluxcd-community/helm-charts", "flux2-2.18.3", "charts/flux2/values.yaml", "flux2-2.18.3.values.yaml"),
    Entry(
        "fluxcd-community/helm-charts",
        "flux2-2.18.3",
        "charts/flux2/templates",
        "flux2-2.18.3.template-paths.txt",
        kind="templates",
    ),
    *(
        Entry(repo, tag, f"config/crd/bases/{crd}", f"flux2-2.18.3.{crd}")
        for repo, tag, crd in (
            ("fluxcd/source-controller", "v1.8.2", "source.toolkit.fluxcd.io_gitrepositories.yaml"),
            ("fluxcd/source-controller", "v1.8.2", "source.toolkit.fluxcd.io_helmrepositories.yaml"),
            ("fluxcd/kustomize-controller", "v1.8.3", "kustomize.toolkit.fluxcd.io_kustomizations.yaml"),
            ("fluxcd/helm-controller", "v1.5.3", "helm.toolkit.fluxcd.io_helmreleases.yaml"),
        )
    ),
    Entry(
        "spotinst/charts",
        "ocean-kubernetes-controller-0.1.74",
        "charts/ocean-kubernetes-controller/values.yaml",
        "ocean-kubernetes-controller-0.1.74.values.yaml",
    ),
    Entry(
        "spotinst/charts",
        "ocean-kubernetes-controller-0.1.74",
        "charts/ocean-kubernetes-controller/templates",
        "ocean-kubernetes-controller-0.1.74.template-paths.txt",
        kind="templates",
    ),
    # vault 0.34.1 (Vault 2.0.4): VaultAwsAuth's injector and VaultServer (components/versions.py VAULT_CHART).
    Entry("hashicorp/vault-helm", "v0.34.1", "values.yaml", "vault-0.34.1.values.yaml"),
    Entry("hashicorp/vault-helm", "v0.34.1", "templates/", "vault-0.34.1.template-paths.txt", kind="templates"),
    # argo-cd (components/versions.py ARGO_CD_CHART)
    Entry("argoproj/argo-helm", "argo-cd-10.1.1", "charts/argo-cd/values.yaml", "argo-cd-10.1.1.values.yaml"),
    Entry(
        "argoproj/argo-helm",
        "argo-cd-10.1.1",
        "charts/argo-cd/templates/",
        "argo-cd-10.1.1.template-paths.txt",
        kind="templates",
    ),
    *(
        Entry(
            "argoproj/argo-helm",
            "argo-cd-10.1.1",
            f"charts/argo-cd/templates/crds/crd-{crd}.yaml",
            f"argo-cd-10.1.1.crd-{crd}.yaml",
            kind="crd",
        )
        for crd in ("application", "applicationset", "appproject")
    ),
)

# --- the add-on catalog (components/addon_catalog.py; versions in components/versions.py) ---
_LBC = ("kubernetes-sigs/aws-load-balancer-controller", "v3.5.0", "helm/aws-load-balancer-controller")
_EXTERNAL_DNS = ("kubernetes-sigs/external-dns", "external-dns-helm-chart-1.21.1", "charts/external-dns")
_CERT_MANAGER = ("cert-manager/cert-manager", "v1.21.1", "deploy/charts/cert-manager")
_METRICS_SERVER = ("kubernetes-sigs/metrics-server", "metrics-server-helm-chart-3.13.1", "charts/metrics-server")
_TRIVY = ("aquasecurity/trivy-operator", "v0.32.0", "deploy/helm")
_POLR_ADAPTER = (
    "fjogeleit/trivy-operator-polr-adapter",
    "chart-v0.11.5",
    "charts/trivy-operator-polr-adapter",
)
_POLICY_REPORTER = ("kyverno/policy-reporter", "policy-reporter-chart-v3.9.1", "charts/policy-reporter")
ADDON_ENTRIES: tuple[Entry, ...] = (
    *(
        entry
        for (repo, ref, path), stem in (
            (_LBC, "aws-load-balancer-controller-3.5.0"),
            (_EXTERNAL_DNS, "external-dns-1.21.1"),
            (_CERT_MANAGER, "cert-manager-v1.21.1"),
            (_METRICS_SERVER, "metrics-server-3.13.1"),
            (_TRIVY, "trivy-operator-0.34.0"),
            (_POLR_ADAPTER, "trivy-operator-polr-adapter-0.11.5"),
            (_POLICY_REPORTER, "policy-reporter-3.9.1"),
        )
        for entry in (
            Entry(repo, ref, f"{path}/values.yaml", f"{stem}.values.yaml"),
            Entry(repo, ref, f"{path}/templates", f"{stem}.template-paths.txt", kind="templates"),
        )
    ),
    # The controller's IAM policy at its app version (tests/contracts/test_addon_policies.py).
    Entry(_LBC[0], _LBC[1], "docs/install/iam_policy.json", "aws-load-balancer-controller-3.5.0.iam_policy.json"),
)
ENTRIES += ADDON_ENTRIES

_PATH = r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)"
_VALUES_PATH = re.compile(_PATH)
_TO_YAML = re.compile(r"toYaml\s+\(?\s*" + _PATH)
#: ``{{- with .Values.x }}`` and the block's first action: ``{{- toYaml . | nindent 4 }}`` passes ``x`` whole.
_WITH = re.compile(r"\{\{-?\s*with\s+" + _PATH + r"\s*-?\}\}[^{]*\{\{([^}]*)\}\}")
_DOT_TO_YAML = re.compile(r"toYaml\s+\.\s")


def _git(mirror: Path, entry: Entry, *args: str) -> str:
    git_dir = mirror / entry.repo.replace("/", "+")
    # The fetch tool's mirrors are ``<owner>+<name>/<dir>`` bare repositories (``*.git`` or e.g. ``repo``).
    found = sorted(git_dir.glob("*.git")) or sorted(head.parent for head in git_dir.glob("*/HEAD")) or [git_dir]
    return subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", "--git-dir", str(found[0]), *args],  # noqa: S607 - git from PATH
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def template_paths(text: str) -> tuple[set[str], set[str]]:
    """The ``.Values`` paths templates read, and those passed through ``toYaml``."""
    whole = {m.group(1)[1:] for m in _TO_YAML.finditer(text)}
    whole |= {m.group(1)[1:] for m in _WITH.finditer(text) if _DOT_TO_YAML.search(m.group(2))}
    return {m.group(1)[1:] for m in _VALUES_PATH.finditer(text)}, whole


def extract(entry: Entry, mirror: Path) -> str:
    """The output file's text for ``entry``."""
    header = f"# {entry.repo}@{entry.ref}:{entry.path}"
    if entry.kind == "file":
        return f"{header}\n{_git(mirror, entry, 'show', f'{entry.ref}:{entry.path}')}"
    if entry.kind == "crd":
        text = _git(mirror, entry, "show", f"{entry.ref}:{entry.path}")
        kept = "".join(line for line in text.splitlines(keepends=True) if "{{" not in line)
        return f"{header} (Helm directive lines removed)\n{kept}"
    files = _git(mirror, entry, "ls-tree", "-r", "--name-only", entry.ref, entry.path).split()
    read: set[str] = set()
    whole: set[str] = set()
    for name in files:
        if name.endswith((".yaml", ".yml", ".tpl", ".txt", ".json")):
            paths, passed = template_paths(_git(mirror, entry, "show", f"{entry.ref}:{name}"))
            read |= paths
            whole |= passed
    lines = [f"{p} toYaml" if p in whole else p for p in sorted(read)]
    note = (
        ' (derived: every .Values path its templates name, one a line; "<path> toYaml" = passed whole through toYaml)'
    )
    return "\n".join([header + note, *lines]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write every entry (or those whose output starts with ``--only``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--only", default="")
    parser.add_argument("--out", type=Path, default=None, help="default: the first folder of $FIDELITY_DATA")
    args = parser.parse_args(argv)
    out = args.out or data_dir()
    if out == SHARED_DATA:
        parser.error(f"{SHARED_DATA} is the read-only shared set: name a folder with --out or $FIDELITY_DATA")
    out.mkdir(parents=True, exist_ok=True)
    for entry in ENTRIES:
        if entry.output.startswith(args.only):
            (out / entry.output).write_text(extract(entry, args.mirror), encoding="utf-8")
            print(f"{entry.output} <- {entry.repo}@{entry.ref}:{entry.path}")  # noqa: T201 - a CLI
    return 0


if __name__ == "__main__":
    sys.exit(main())
