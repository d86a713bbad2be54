r"""The naming rules of AWS and Kubernetes in one place: lengths and characters of names, tags, labels, CIDRs.

Every name, tag, label and CIDR the platform derives from settings is checked against these. Pure: the settings,
the components and the policies use it.

Sources (checked 2026-12-01):
- IAM: "IAM and AWS STS quotas" and CreateRole/CreatePolicy (role names 1-64, policy names 1-128,
  ``[\w+=,.@-]``; a path is separate, a name holds no ``/``).
- EKS: CreateCluster (``^[0-9A-Za-z][A-Za-z0-9\-_]*``, 1-100), CreateNodegroup (same pattern, 1-63).
- SQS: CreateQueue (1-80, alphanumerics, ``-`` and ``_``). EventBridge: PutRule (1-64, ``[\.\-_A-Za-z0-9]+``).
- CloudWatch Logs: CreateLogGroup (1-512, ``[\.\-_/#A-Za-z0-9]+``). KMS: CreateAlias (``alias/`` + 1-250 of
  ``[a-zA-Z0-9/_-]``, not ``alias/aws/``). EC2: CreateLaunchTemplate (3-128, ``[a-zA-Z0-9\(\)\.\-/_]+``).
- Tags: "Tagging AWS resources" (keys 1-128, values 0-256, letters, numbers, spaces and ``_.:/=+-@``; keys may
  not start with ``aws:``).
- Kubernetes: "Object Names and IDs" (DNS-1123 label 63, subdomain 253) and "Labels and Selectors" (label keys
  ``[prefix/]name``: prefix a DNS subdomain of at most 253, name at most 63 of ``[A-Za-z0-9_.-]`` beginning and
  ending alphanumeric; values the same shape, at most 63, may be empty). Helm: release names are at most 53
  characters (Helm's ``releaseNameMaxLen``) and DNS-1123 subdomains.
- VPC: CreateVpc (an IPv4 block from /16 to /28).
- CodeBuild: CreateProject (``[A-Za-z0-9][A-Za-z0-9\-_]{1,254}``; the console and CloudFormation cap it at 150).
- IAM: CreateUser (``UserName`` 1-64 of ``[\w+=,.@-]``). SES: ConfigurationSet (``Name``: letters, numbers, ``_`` and
  ``-``, 64 or fewer). SES Regions: the ``email`` (SES v1 and v2) endpoints of botocore 1.44.8's ``endpoints.json``,
  which the AWS General Reference's "Amazon Simple Email Service endpoints and quotas" lists too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: Longest name each service accepts for the things we name explicitly.
MAX_LENGTH: Final[dict[str, int]] = {
    "eks_cluster": 100,
    "eks_node_group": 63,
    "iam_role": 64,
    "iam_policy": 128,
    "iam_user": 64,
    "ses_configuration_set": 64,
    "instance_profile": 128,
    "sqs_queue": 80,
    "eventbridge_rule": 64,
    "log_group": 512,
    "kms_alias": 256,
    "launch_template": 128,
    "codebuild_project": 150,
    "helm_release": 53,
    "k8s_name": 63,
    "default": 63,
}

#: Allowed characters (whole-name patterns) per kind.
PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    "iam_role": re.compile(r"^[\w+=,.@-]+$", re.ASCII),
    "iam_policy": re.compile(r"^[\w+=,.@-]+$", re.ASCII),
    "iam_user": re.compile(r"^[\w+=,.@-]+$", re.ASCII),
    "ses_configuration_set": re.compile(r"^[A-Za-z0-9_-]+$"),
    "eks_cluster": re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]*$"),
    "eks_node_group": re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]*$"),
    "sqs_queue": re.compile(r"^[A-Za-z0-9_-]+$"),
    "eventbridge_rule": re.compile(r"^[.\-_A-Za-z0-9]+$"),
    "log_group": re.compile(r"^[.\-_/#A-Za-z0-9]+$"),
    "kms_alias": re.compile(r"^alias/(?!aws/)[a-zA-Z0-9/_-]+$"),
    "launch_template": re.compile(r"^[a-zA-Z0-9().\-/_]{3,}$"),
    "dns_label": re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"),
    "dns_subdomain": re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"),
    "label_name": re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$"),
    "label_value": re.compile(r"^([A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?)?$"),
    "instance_type": re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$"),
    "codebuild_project": re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,149}$"),
}

#: How a kind is called in messages.
KIND_LABELS: Final[dict[str, str]] = {
    "iam_role": "IAM role",
    "iam_policy": "IAM policy",
    "iam_user": "IAM user",
    "ses_configuration_set": "SES configuration set",
    "eks_cluster": "EKS cluster",
    "eks_node_group": "EKS node group",
    "sqs_queue": "SQS queue",
    "eventbridge_rule": "EventBridge rule",
    "log_group": "CloudWatch log group",
    "kms_alias": "KMS alias",
    "launch_template": "launch template",
    "codebuild_project": "CodeBuild project",
}

DNS_LABEL_MAX: Final = 63
DNS_SUBDOMAIN_MAX: Final = 253
LABEL_VALUE_MAX: Final = 63
TAG_KEY_MAX: Final = 128
TAG_VALUE_MAX: Final = 256
#: Characters a tag may hold besides letters, numbers and spaces (Unicode letters and numbers are allowed).
TAG_PUNCTUATION: Final = frozenset("_.:/=+-@")
VPC_PREFIX_RANGE: Final = (16, 28)

#: AWS Regions (AWS General Reference, "AWS Regions", checked 2026-12-01): a region outside this list is refused
#: by the AWS provider's region validation when it is configured, i.e. after registration has started.
AWS_REGIONS: Final = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-gov-east-1",
        "us-gov-west-1",
        "us-west-1",
        "us-west-2",
    }
)


#: AWS Regions where SES (the API, and with it identities, configuration sets and sending) is offered: AWS_REGIONS
#: but ap-east-1 and the China Regions (botocore 1.44.8 endpoints.json, services ``email`` and ``sesv2``).
SES_REGIONS: Final = AWS_REGIONS - {"ap-east-1", "cn-north-1", "cn-northwest-1"}


#: An IAM role ARN: an optional path of IAM path segments, then a role name of 1-64 IAM name characters
#: (CreateRole: ``Path`` ``/``-delimited segments, ``RoleName`` 1-64 of ``[\w+=,.@-]``).
IAM_ROLE_ARN: Final = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$", re.ASCII)


def is_iam_role_arn(arn: str) -> bool:
    """Whether ``arn`` is an IAM role ARN IAM could hold (path kept, name at most 64 characters)."""
    return IAM_ROLE_ARN.fullmatch(arn) is not None


def name_problem(name: str, kind: str) -> str | None:
    """Why AWS would refuse ``name`` as a name of ``kind`` (a key of `MAX_LENGTH`/`PATTERNS`), None if it would not."""
    limit = MAX_LENGTH.get(kind)
    if not name:
        return "is empty"
    if limit is not None and len(name) > limit:
        return f"is {len(name)} characters long, over the limit of {limit}"
    pattern = PATTERNS.get(kind)
    if pattern is not None and not pattern.fullmatch(name):
        return f"is not a valid {KIND_LABELS.get(kind, kind)} name (allowed: {pattern.pattern})"
    return None


def tag_value_problem(value: str) -> str | None:
    """Why a tag value would be refused (length 0-256; letters, numbers, spaces and ``_.:/=+-@``)."""
    if len(value) > TAG_VALUE_MAX:
        return f"is {len(value)} characters long, over the tag value limit of {TAG_VALUE_MAX}"
    # \p{L}, \p{Z} and \p{N}: Unicode letters, separators (not control characters such as tab) and numbers.
    bad = sorted({c for c in value if unicodedata.category(c)[0] not in "LZN" and c not in TAG_PUNCTUATION})
    if bad:
        return f"holds characters a tag value may not hold: {''.join(bad)!r}"
    return None


def tag_key_problem(key: str) -> str | None:
    """Why a tag key would be refused (length 1-128, the value's characters, no ``aws:`` prefix)."""
    if not key:
        return "is empty"
    if len(key) > TAG_KEY_MAX:
        return f"is {len(key)} characters long, over the tag key limit of {TAG_KEY_MAX}"
    if key.lower().startswith("aws:"):
        return "starts with aws:, a prefix AWS reserves"
    problem = tag_value_problem(key)
    return problem.replace("tag value", "tag key") if problem else None


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a Kubernetes label (or annotation) key: ``[prefix/]name``."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > DNS_SUBDOMAIN_MAX or not PATTERNS["dns_subdomain"].fullmatch(prefix)):
        return f"has a prefix {prefix!r} that is not a DNS subdomain of at most {DNS_SUBDOMAIN_MAX} characters"
    if not name or len(name) > DNS_LABEL_MAX or not PATTERNS["label_name"].fullmatch(name):
        return f"has a name part {name!r} that is not 1-63 of A-Za-z0-9_.- beginning and ending alphanumeric"
    return None


#: Label key prefixes EKS reserves for itself on node groups (EKS API UpdateLabelsPayload; eksctl#4007).
EKS_RESERVED_LABEL_PREFIXES: Final = ("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")


def eks_label_key_problem(key: str) -> str | None:
    """Why EKS refuses ``key`` as a node group label key: Kubernetes' rule, 1-63 characters, no reserved prefix."""
    problem = label_key_problem(key)
    if problem:
        return problem
    if len(key) > DNS_LABEL_MAX:
        return f"is {len(key)} characters long; EKS takes node group label keys of 1-63"
    reserved = next((prefix for prefix in EKS_RESERVED_LABEL_PREFIXES if prefix in key), None)
    if reserved:
        return f"uses the prefix {reserved!r}, which EKS reserves"
    return None


def eks_label_value_problem(value: str) -> str | None:
    """Why EKS refuses ``value`` as a node group label value (Kubernetes' rule, and not empty: 1-63)."""
    return "is empty; EKS takes node group label values of 1-63" if not value else label_value_problem(value)


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a Kubernetes label value (at most 63, ``[A-Za-z0-9_.-]``, alphanumeric at the ends)."""
    if len(value) > LABEL_VALUE_MAX or not PATTERNS["label_value"].fullmatch(value):
        return "is not a label value (at most 63 of A-Za-z0-9_.-, beginning and ending alphanumeric)"
    return None


#: The node label the platform sets on every node of a per-zone node group, valued the group's key (components/
#: eks_cluster.py): settings refuse it as a label of their own.
NODE_GROUP_LABEL: Final = "platform.eks/node-group"
#: Ports a security group rule takes (EC2 AuthorizeSecurityGroupIngress: ``FromPort``/``ToPort`` 0-65535; port 0 is
#: no port a webhook listens on).
PORT_RANGE: Final = (1, 65535)


def port_list_problem(ports: list[int] | tuple[int, ...]) -> str | None:
    """Why ``ports`` are not a list of TCP ports (1-65535), each once; None if they are."""
    low, high = PORT_RANGE
    bad = [port for port in ports if not low <= port <= high]
    if bad:
        return f"not TCP ports ({low}-{high}): {', '.join(map(str, bad))}"
    repeated = sorted({port for port in ports if ports.count(port) > 1})
    if repeated:
        return f"lists {', '.join(map(str, repeated))} more than once"
    return None
