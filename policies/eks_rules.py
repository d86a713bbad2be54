"""The EKS control plane and its nodes: audit logging, API endpoint exposure, IMDSv2 on nodes."""

from __future__ import annotations

import ipaddress

from pulumi_policy import EnforcementLevel, Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from components.cidrs import covered_families, internet_cidrs
from components.eks_access import ACCESS_POLICY_ARN, EKS_ACCESS_POLICIES
from policies.common import as_list, dig, is_unknown, plain_props, truthy
from policies.settings import PackContext, policy_config, schema, string_list

CLUSTER_TYPE = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_NODE_CLASS_TYPE = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
#: Spot Ocean's cluster: the launch specification of every node it starts.
OCEAN_TYPE = "spotinst:aws/ocean:Ocean"

LOGGING_SCHEMA = schema(
    {
        "requiredLogTypes": string_list(
            "Control-plane log types that must be enabled.", ["api", "audit", "authenticator"]
        )
    }
)
ENDPOINT_SCHEMA = schema(
    {
        "allowPublicEndpoint": {
            "type": "boolean",
            "description": "Whether a public API endpoint (with restricted CIDRs) is allowed at all.",
            "default": True,
        },
    }
)
IMDS_SCHEMA = schema(
    {
        "maxHopLimit": {
            "type": "integer",
            "description": "Largest IMDSv2 PUT response hop limit (1 keeps pods off node credentials).",
            "default": 2,
        },
    }
)


def check_control_plane_logging(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """EKS clusters ship at least the api, audit and authenticator control-plane logs."""
    if args.resource_type != CLUSTER_TYPE:
        return
    cfg = policy_config(args.get_config(), LOGGING_SCHEMA)
    enabled = plain_props(args.props).get("enabledClusterLogTypes")
    if is_unknown(enabled):
        return
    missing = [log for log in cfg["requiredLogTypes"] if log not in as_list(enabled)]
    if missing:
        report(
            f"control-plane log types not enabled: {', '.join(missing)}.\n"
            "Remediation: add them to enabled_cluster_log_types (settings.cluster.logTypes).",
            None,
        )


def _open_cidrs(cidrs: list[object]) -> list[str]:
    """The CIDRs that open the endpoint to a whole address family: a ``/0``, or a set whose union covers it."""
    open_to_all: list[str] = []
    for family in covered_families(cidrs):
        family_cidrs = internet_cidrs(cidrs, family)
        zero = [cidr for cidr in family_cidrs if ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0]
        open_to_all += zero or [f"{', '.join(family_cidrs)} (together the whole {family} internet)"]
    return open_to_all


def check_public_endpoint(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A public API endpoint is only opened to restricted CIDRs, never to the internet (a /0, or a split of it)."""
    if args.resource_type != CLUSTER_TYPE:
        return
    cfg = policy_config(args.get_config(), ENDPOINT_SCHEMA)
    vpc = plain_props(args.props).get("vpcConfig")
    public = dig(vpc, "endpointPublicAccess")
    if is_unknown(public):
        return
    # EKS's default is a public endpoint when the flag is absent.
    if public is not None and not truthy(public):
        return
    remediation = (
        "Remediation: keep the endpoint private (settings.cluster.endpoint.publicAccess=false) or list only "
        "the office/VPN ranges in publicAccessCidrs."
    )
    if not cfg["allowPublicEndpoint"]:
        report(
            f"the API endpoint is public; this stack's policy config allows private endpoints only.\n{remediation}",
            None,
        )
        return
    cidrs = dig(vpc, "publicAccessCidrs")
    if is_unknown(cidrs):
        return
    if not as_list(cidrs):
        report(f"the public API endpoint lists no CIDRs, and EKS then opens it to 0.0.0.0/0.\n{remediation}", None)
        return
    open_to_all = _open_cidrs(as_list(cidrs))  # unknown entries are skipped: the known ones may suffice
    if open_to_all:
        report(f"the public API endpoint is open to {', '.join(open_to_all)}.\n{remediation}", None)


def _metadata_problems(
    options: object, *, tokens_key: str, hop_key: str, endpoint_key: str, max_hops: int
) -> list[str]:
    if options is None:
        return ["no metadata options: instances accept IMDSv1 (httpTokens defaults to optional)"]
    if is_unknown(options):
        return []
    if dig(options, endpoint_key) == "disabled":
        return []  # no instance metadata service at all
    problems = []
    tokens = dig(options, tokens_key)
    if not is_unknown(tokens) and tokens != "required":
        problems.append(f"{tokens_key} is {tokens!r}, not 'required' (IMDSv1 stays usable)")
    hops = dig(options, hop_key)
    if isinstance(hops, (int, float)) and not isinstance(hops, bool) and hops > max_hops:
        problems.append(f"{hop_key} is {int(hops)}, above {max_hops}")
    return problems


def check_imdsv2(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Node launch templates (Karpenter EC2NodeClasses, Spot Oceans) require IMDSv2 with a small hop limit."""
    cfg = policy_config(args.get_config(), IMDS_SCHEMA)
    props = plain_props(args.props)
    max_hops = int(cfg["maxHopLimit"])
    if args.resource_type == LAUNCH_TEMPLATE_TYPE:
        problems = _metadata_problems(
            props.get("metadataOptions"),
            tokens_key="httpTokens",
            hop_key="httpPutResponseHopLimit",
            endpoint_key="httpEndpoint",
            max_hops=max_hops,
        )
    elif args.resource_type == EC2_NODE_CLASS_TYPE:
        options = dig(props, "spec", "metadataOptions")
        if options is None:
            return  # Karpenter's default: httpTokens required, hop limit 1
        problems = _metadata_problems(
            options,
            tokens_key="httpTokens",
            hop_key="httpPutResponseHopLimit",
            endpoint_key="httpEndpoint",
            max_hops=max_hops,
        )
    elif args.resource_type == OCEAN_TYPE:
        # Without instanceMetadataOptions Ocean's nodes accept IMDSv1 (Spot API: httpTokens defaults to optional).
        problems = _metadata_problems(
            props.get("instanceMetadataOptions"),
            tokens_key="httpTokens",
            hop_key="httpPutResponseHopLimit",
            endpoint_key="httpEndpoint",
            max_hops=max_hops,
        )
    else:
        return
    for problem in problems:
        report(
            f"{problem}.\nRemediation: set metadata options httpTokens='required' and "
            f"httpPutResponseHopLimit<={max_hops} (1 keeps pods from the node role's credentials).",
            None,
        )


def check_access_policy_exists(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """An access policy association names an EKS access policy that exists (``components/eks_access.py``)."""
    if args.resource_type != "aws:eks/accessPolicyAssociation:AccessPolicyAssociation":
        return
    arn = plain_props(args.props).get("policyArn")
    if is_unknown(arn):
        return
    match = ACCESS_POLICY_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None or match["name"] not in EKS_ACCESS_POLICIES:
        report(
            f"policyArn {arn!r} is not an EKS access policy (arn:<partition>:eks::aws:cluster-access-policy/<name>, "
            "see components/eks_access.py): EKS refuses the association.\nRemediation: use one of cluster-admin, "
            "admin, edit, view, admin-view, or the ARN of an existing EKS access policy.",
            None,
        )


def policies(ctx: PackContext) -> list[Policy]:
    """The EKS policies (mandatory on production stacks, advisory elsewhere)."""
    level = ctx.security_level
    return [
        ResourceValidationPolicy(
            name="eks-access-policy-exists",
            description="EKS access policy associations name an access policy that exists.",
            validate=check_access_policy_exists,
            # EKS refuses the association at `pulumi up` in every stack.
            enforcement_level=EnforcementLevel.MANDATORY,
            remediation_steps="Name one of the policies in components/eks_access.py.",
        ),
        ResourceValidationPolicy(
            name="eks-control-plane-logging",
            description="EKS clusters enable the api, audit and authenticator control-plane logs (at least).",
            validate=check_control_plane_logging,
            enforcement_level=level,
            config_schema=LOGGING_SCHEMA,
            remediation_steps="Add the missing types to enabled_cluster_log_types.",
        ),
        ResourceValidationPolicy(
            name="eks-public-endpoint-restricted",
            description="A public EKS API endpoint is opened only to restricted CIDRs, never 0.0.0.0/0.",
            validate=check_public_endpoint,
            enforcement_level=level,
            config_schema=ENDPOINT_SCHEMA,
            remediation_steps="Disable the public endpoint or restrict publicAccessCidrs.",
        ),
        ResourceValidationPolicy(
            name="node-imdsv2-required",
            description="Node launch templates and Karpenter EC2NodeClasses require IMDSv2 with a hop limit <= 2.",
            validate=check_imdsv2,
            enforcement_level=level,
            config_schema=IMDS_SCHEMA,
            remediation_steps="Set httpTokens='required' and a hop limit of 1 or 2.",
        ),
    ]
