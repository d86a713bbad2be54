"""EksCluster: control plane, access entries, OIDC provider, managed add-ons and managed node groups.

Built from ``pulumi_aws`` primitives (not pulumi-eks, a remote component whose children offline checks
cannot see). Also builds the ``kubernetes.Provider`` every in-cluster component uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, get_args

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import iam_documents as iam
from components.context import AwsContext, ClusterRef, OidcIssuer
from components.delivery import API_PORT
from components.eks_access import ACCESS_POLICY_SHORT_NAMES, access_policy_arn
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.limits import MAX_LENGTH, NODE_GROUP_LABEL, port_list_problem
from components.naming import NamingContext, arn_key, fit, unique_tail_aliases
from components.scheduling import TaintedGroup, node_group_tolerations
from components.versions import (
    BOTTLEROCKET_DATA_DEVICE,
    BOTTLEROCKET_OS_DEVICE,
    BOTTLEROCKET_OS_VOLUME_GIB,
    EKS_ADDON_VERSIONS,
    NODE_AMI_TYPE,
    ROOT_DEVICE,
    is_bottlerocket,
)
from components.vpc import zone_key

CLUSTER_ADMIN_POLICY = ACCESS_POLICY_SHORT_NAMES["cluster-admin"]
#: Read access to every resource, Secrets included (EKS "Review access policy permissions").
VIEWER_POLICY = ACCESS_POLICY_SHORT_NAMES["admin-view"]
#: The EBS CSI driver's AWS-managed policy lives under the ``service-role/`` path (AWS Managed Policy Reference).
EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
#: Add-ons whose workloads are Deployments: they need schedulable nodes before they can become ACTIVE.
ADDONS_NEEDING_NODES = ("coredns", "aws-ebs-csi-driver")
#: Modes of security groups for pods (aws/amazon-vpc-cni-k8s README, ``POD_SECURITY_GROUP_ENFORCING_MODE``, v1.11.0+;
#: the plugin's default is ``strict``).
PodSecurityGroupEnforcingMode = Literal["strict", "standard"]
POD_SECURITY_GROUP_ENFORCING_MODES: tuple[str, ...] = get_args(PodSecurityGroupEnforcingMode)


class TaintEffect(StrEnum):
    """EKS API spelling of Kubernetes taint effects."""

    NO_SCHEDULE = "NO_SCHEDULE"
    NO_EXECUTE = "NO_EXECUTE"
    PREFER_NO_SCHEDULE = "PREFER_NO_SCHEDULE"


@dataclass(frozen=True)
class TaintSpec:
    """A Kubernetes taint on a node group's nodes (EKS API spelling of the effect)."""

    key: str
    value: str = ""
    effect: TaintEffect = TaintEffect.NO_SCHEDULE


@dataclass(frozen=True)
class NodeGroupSpec:
    """One EKS managed node group (its key in ``EksClusterArgs.node_groups`` is its identity)."""

    instance_types: tuple[str, ...] = ("m6i.large",)
    #: ON_DEMAND or SPOT.
    capacity_type: str = "ON_DEMAND"
    #: Sizes; with ``per_zone`` they are each zone's group's.
    min_size: int = 2
    max_size: int = 3
    desired_size: int = 2
    #: The encrypted gp3 root volume (AL2023) or data volume (Bottlerocket), in GiB.
    disk_size_gib: int = 50
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[TaintSpec, ...] = ()
    metadata_hop_limit: int = 1
    #: One of components/versions.py ``NODE_AMI_TYPES``.
    ami_type: str = NODE_AMI_TYPE
    #: One node group (and launch template) per zone, each in its zone's subnet, instead of one across the zones.
    per_zone: bool = False


@dataclass(frozen=True)
class AccessEntrySpec:
    """One principal's access entry: EKS access policies (names), their namespaces (none: cluster), RBAC groups."""

    principal_arn: str
    policies: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    kubernetes_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class VpcCniSpec:
    """VPC CNI features, rendered into the add-on's configuration values (`vpc_cni_configuration`)."""

    network_policy: bool = False
    prefix_delegation: bool = False
    pod_security_groups: bool = False
    #: ``strict`` or ``standard`` (`POD_SECURITY_GROUP_ENFORCING_MODES`), only with ``pod_security_groups``; None:
    #: the plugin's default (strict).
    pod_security_group_enforcing_mode: str | None = None


def vpc_cni_configuration(spec: VpcCniSpec) -> dict[str, object]:
    """The vpc-cni add-on's configuration values for ``spec`` (empty: EKS defaults).

    Keys and their string values: EKS User Guide, "Amazon VPC CNI" (``{"enableNetworkPolicy": "true"}``, the
    ``env`` map of ``ENABLE_PREFIX_DELEGATION`` and ``ENABLE_POD_ENI``, string booleans in the add-on's
    configuration schema) and the aws-vpc-cni chart's ``values.yaml`` (its ``env`` map becomes the aws-node
    container's environment). ``POD_SECURITY_GROUP_ENFORCING_MODE`` (``strict``/``standard``) is read by the plugin
    once ``ENABLE_POD_ENI`` is true (aws/amazon-vpc-cni-k8s README). Security groups for pods also need the cluster
    role's ``AmazonEKSVPCResourceController``, which it always has.
    """
    mode = spec.pod_security_group_enforcing_mode
    if mode is not None and (not spec.pod_security_groups or mode not in POD_SECURITY_GROUP_ENFORCING_MODES):
        msg = f"pod security group enforcing mode {mode!r}: strict or standard, and only with pod security groups"
        raise ValueError(msg)
    values: dict[str, object] = {}
    if spec.network_policy:
        values["enableNetworkPolicy"] = "true"
    env = {
        name: "true"
        for name, enabled in (
            ("ENABLE_PREFIX_DELEGATION", spec.prefix_delegation),
            ("ENABLE_POD_ENI", spec.pod_security_groups),
        )
        if enabled
    }
    if mode is not None:
        env["POD_SECURITY_GROUP_ENFORCING_MODE"] = mode
    if env:
        values["env"] = env
    return values


def node_block_devices(ami_type: str, disk_size_gib: int) -> list[aws.ec2.LaunchTemplateBlockDeviceMappingArgsDict]:
    """A node's volumes, each encrypted gp3: AL2023's root volume, or Bottlerocket's OS and data volumes.

    ``disk_size_gib`` sizes the volume containers live on: AL2023's root, Bottlerocket's data volume (its OS volume
    is `BOTTLEROCKET_OS_VOLUME_GIB`). Device names: components/versions.py.
    """
    volumes = (
        [(BOTTLEROCKET_OS_DEVICE, BOTTLEROCKET_OS_VOLUME_GIB), (BOTTLEROCKET_DATA_DEVICE, disk_size_gib)]
        if is_bottlerocket(ami_type)
        else [(ROOT_DEVICE, disk_size_gib)]
    )
    return [
        {
            "device_name": device,
            "ebs": {"volume_size": size, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"},
        }
        for device, size in volumes
    ]


def zone_node_group_name(group_name: str, zone: str) -> str:
    """The physical name of one zone's group: the group's name (cut to fit) and ``-<zone letter>``, at most 63."""
    suffix = f"-{zone_key(zone)}"
    return fit(group_name, MAX_LENGTH["eks_node_group"] - len(suffix)) + suffix


@dataclass(frozen=True)
class StorageClassSpec:
    """The cluster's default StorageClass: encrypted gp3 from the EBS CSI driver, bound where the pod lands."""

    name: str = "gp3"
    reclaim_policy: str = "Delete"
    #: A customer key for the volumes (``alias/<name>``); None: the account's default EBS key.
    kms_key_alias: str | None = None


@dataclass(frozen=True)
class EksClusterArgs:
    """Inputs of an EksCluster."""

    naming: NamingContext
    kubernetes_version: str
    #: Subnets of the nodes (private), keyed by zone name in zone order: a group spans them all, or has one group in
    #: each (``NodeGroupSpec.per_zone``).
    node_subnets: Mapping[str, pulumi.Input[str]]
    #: Subnets of the control-plane ENIs (intra if the VPC has them, else private).
    control_plane_subnet_ids: Sequence[pulumi.Input[str]]
    #: Account, partition, region, the tags for what the provider's default_tags do not reach (instances, volumes
    #: and ENIs of node groups) and the permissions boundary of every role.
    account: AwsContext
    node_groups: Mapping[str, NodeGroupSpec]
    public_access: bool = False
    public_access_cidrs: Sequence[str] = ()
    log_types: Sequence[str] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
    log_retention_days: int = 365
    admin_role_arns: Sequence[str] = ()
    #: Roles with read access (``VIEWER_POLICY``), e.g. the preview roles of CI.
    viewer_role_arns: Sequence[str] = ()
    #: Access entries keyed by a name of the stack's (``cluster.access``); one principal per entry.
    access_entries: Mapping[str, AccessEntrySpec] = field(default_factory=dict)
    #: The default StorageClass (None: none is created; EKS marks none default since Kubernetes 1.30).
    storage_class: StorageClassSpec | None = field(default_factory=StorageClassSpec)
    vpc_cni: VpcCniSpec = field(default_factory=VpcCniSpec)
    cluster_creator_admin: bool = False
    #: The IAM principal running the deployment (``aws.iam.get_session_context(...).issuer_arn``): it gets
    #: cluster admin through an access entry, unless it is one of ``admin_role_arns`` already or one of
    #: ``viewer_role_arns`` (a preview, which only reads). None: no entry.
    deployer_principal_arn: str | None = None
    #: Node group whose taints the platform add-ons (coredns, EBS CSI controller) tolerate.
    system_node_group: str = "system"
    protect: bool = True
    #: EKS support type, STANDARD or EXTENDED (see components/versions.py).
    upgrade_policy: str = "STANDARD"
    #: Security groups of API clients inside the VPC (the CI runner), keyed by role: the cluster security group
    #: admits each on 443, the private endpoint's port.
    api_client_security_groups: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: Extra tags of the cluster (``extraTags.cluster``) and of the node groups and what they launch
    #: (``extraTags.nodeGroups``), besides the provider's default tags.
    cluster_tags: Mapping[str, str] = field(default_factory=dict)
    node_group_tags: Mapping[str, str] = field(default_factory=dict)
    #: TCP ports the control plane calls admission webhooks on (Istio's 15017, ...). Non-empty: a node security group
    #: admits them from the cluster security group, and every launch template lists both groups.
    webhook_ports: Sequence[int] = ()
    #: The VPC of the node security group (required with ``webhook_ports``).
    vpc_id: pulumi.Input[str] | None = None
    #: ``ipv4`` or ``ipv6``: the family of pod and Service addresses. Create-only (EKS cannot change it: a new
    #: value replaces the cluster); ``ipv6`` needs dual-stack subnets and gives the VPC CNI its IPv6 policy.
    ip_family: str = "ipv4"


def taint_tolerations(group: TaintedGroup | None) -> list[dict[str, str]]:
    """Kubernetes tolerations (``NoSchedule`` spelling) matching a node group's taints (`components.scheduling`)."""
    return node_group_tolerations(group)


def service_ipv4_cidr(config: aws.eks.outputs.ClusterKubernetesNetworkConfig | None) -> str:
    """The cluster's service IPv4 CIDR (EKS picks one when none is given); empty for an IPv6 cluster."""
    return (config.service_ipv4_cidr if config else None) or ""


def oidc_issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The cluster's OIDC issuer URL from its ``identities`` output."""
    oidcs = identities[0].oidcs if identities else None
    return (oidcs[0].issuer or "") if oidcs else ""


def kubeconfig(*, cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (no static credentials)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )


class EksCluster(pulumi.ComponentResource):
    """The cluster. Outputs are attributes; ``provider`` is the kubernetes provider for children."""

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    #: The cluster's CA (base64) and service IPv4 CIDR (EKS picks one when none is given).
    certificate_authority_data: pulumi.Output[str]
    service_cidr: pulumi.Output[str]
    #: Managed node groups by key: the group's, or ``<group>-<zone letter>`` for each zone of a per-zone group.
    node_groups: dict[str, aws.eks.NodeGroup]
    #: Where platform controllers run: the system node group, by its name (``eks.amazonaws.com/nodegroup``) or, per
    #: zone, by `NODE_GROUP_LABEL`; the value is an Output of the groups, so workloads placed with it wait for them.
    #: And tolerations of its taints.
    system_node_selector: dict[str, pulumi.Output[str]]
    #: The node security group (None without webhook ports): list it in a SecurityGroupPolicy's ``groupIds`` so pods
    #: with security groups of their own still admit the control plane on the webhook ports.
    node_security_group_id: pulumi.Output[str] | None = None
    system_tolerations: list[dict[str, str]]
    provider: k8s.Provider
    #: The facts above the in-cluster components share, as one reference.
    ref: ClusterRef

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:EksCluster", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        cluster_name = args.naming.cluster_name

        role = aws.iam.Role(
            f"{name}-cluster-role",
            name=args.naming.platform_role("cluster"),
            assume_role_policy=json.dumps(iam.service_trust_policy("eks.amazonaws.com")),
            permissions_boundary=args.account.permissions_boundary,
            opts=child,
        )
        role_policies: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-cluster-{policy}",
                role=role.name,
                policy_arn=iam.managed_policy_arn(args.account.partition, policy),
                opts=child,
            )
            for policy in ("AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController")
        ]

        key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"Envelope encryption of Kubernetes secrets in {cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(
                iam.kms_key_policy(
                    account_id=args.account.account_id, partition=args.account.partition, service_principals=[]
                )
            ),
            opts=stateful,
        )
        aws.kms.Alias(
            f"{name}-secrets-key-alias",
            name=args.naming.kms_alias("secrets"),
            target_key_id=key.key_id,
            opts=child,
        )
        role_policies.append(
            aws.iam.RolePolicy(
                f"{name}-cluster-encryption",
                role=role.id,
                policy=key.arn.apply(
                    lambda arn: json.dumps(
                        iam.document(
                            {
                                "Effect": "Allow",
                                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                                "Resource": arn,
                            }
                        )
                    )
                ),
                opts=child,
            )
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            opts=child,
        )

        vpc_config: aws.eks.ClusterVpcConfigArgsDict = {
            "subnet_ids": list(args.control_plane_subnet_ids),
            "endpoint_private_access": True,
            "endpoint_public_access": args.public_access,
        }
        if args.public_access:
            vpc_config["public_access_cidrs"] = list(args.public_access_cidrs)
        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            version=args.kubernetes_version,
            role_arn=role.arn,
            vpc_config=vpc_config,
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(args.log_types),
            access_config={
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": args.cluster_creator_admin,
            },
            upgrade_policy={"support_type": args.upgrade_policy},
            # Left unset for ipv4 (EKS's default), so that existing clusters see no change.
            kubernetes_network_config={"ip_family": "ipv6"} if args.ip_family == "ipv6" else None,
            deletion_protection=args.protect,
            tags=dict(args.cluster_tags) or None,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                # EKS creates its log group itself (unmanaged, no retention) unless ours exists first, and
                # it validates the role's policies at creation: neither is an input of the cluster.
                depends_on=[log_group, *role_policies],
            ),
        )
        self.cluster_name = cluster.name
        self.endpoint, self.service_cidr = cluster.endpoint, cluster.kubernetes_network_config.apply(service_ipv4_cidr)
        self.oidc_issuer_url = cluster.identities.apply(oidc_issuer)
        self.cluster_security_group_id = cluster.vpc_config.apply(lambda vpc: vpc.cluster_security_group_id or "")

        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc-provider",
            url=self.oidc_issuer_url,
            client_id_lists=[iam.STS_AUDIENCE],
            opts=stateful,
        )
        self.oidc_provider_arn = oidc.arn

        old_keys = unique_tail_aliases(tuple(args.admin_role_arns))
        admin, viewer = {"policy": CLUSTER_ADMIN_POLICY}, {"policy": VIEWER_POLICY}
        admin_access: list[aws.eks.AccessPolicyAssociation] = []
        for arn in args.admin_role_arns:
            # Keyed by the whole ARN (``role/a`` and ``role/team/a`` differ); the old key stays an alias.
            old = next(iter(old_keys.get(arn_key(arn), ())), None)
            admin_access += self._access_entry(
                cluster, f"{name}-admin-{arn_key(arn)}", arn, admin, old_name=f"{name}-admin-{old}" if old else None
            )
        deployer = args.deployer_principal_arn
        # A viewer running the program (CI's preview role: pre-approval previews, drift checks) reads; it must not
        # plan an admin entry of its own, which the deploy role's `up --plan` would then not hold.
        granted = {spec.principal_arn for spec in args.access_entries.values()}
        if deployer and deployer not in (*args.admin_role_arns, *args.viewer_role_arns, *granted):
            admin_access += self._access_entry(cluster, f"{name}-admin-deployer", deployer, admin)
        for arn in args.viewer_role_arns:
            self._access_entry(cluster, f"{name}-viewer-{arn_key(arn)}", arn, viewer)
        for entry_key, spec in sorted(args.access_entries.items()):
            associations = self._access_entry(
                cluster,
                f"{name}-access-{entry_key}",
                spec.principal_arn,
                {policy: policy for policy in spec.policies},
                namespaces=spec.namespaces,
                kubernetes_groups=spec.kubernetes_groups,
            )
            if spec.principal_arn == deployer:
                admin_access += associations

        node_role, node_policies = self._node_role()
        self.node_role_arn, self.node_role_name = node_role.arn, node_role.name
        addons = self._addons(cluster, before_nodes=True)
        self.node_groups = self._all_node_groups(cluster, node_role, [*node_policies, *addons.values()])
        addons.update(self._addons(cluster, before_nodes=False))
        self.system_node_selector = self._system_node_selector()
        self.system_tolerations = taint_tolerations(args.node_groups[args.system_node_group])

        # The CA is also what nodes outside managed groups (Spot Ocean's) need in their nodeadm NodeConfig to join.
        self.certificate_authority_data = ca_data = cluster.certificate_authority.apply(lambda ca: ca.data or "")
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, ca_data).apply(
                lambda v: kubeconfig(cluster_name=v[0], endpoint=v[1], ca_data=v[2], region=args.account.region)
            )
        )
        api_clients = [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-{role}",
                security_group_id=self.cluster_security_group_id,
                referenced_security_group_id=group_id,
                description=f"Kubernetes API from the {role}",
                ip_protocol="tcp",
                from_port=API_PORT,
                to_port=API_PORT,
                opts=child,
            )
            for role, group_id in sorted(args.api_client_security_groups.items())
        ]
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # Every in-cluster resource goes through this provider: none may start before the deploying
            # identity's access is in place (EKS answers 401 until then), nor before an in-VPC deployer's
            # security group is admitted to the private endpoint; the kubeconfig carries neither.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*admin_access, *api_clients]),
        )
        self.kms_key_arn = key.arn
        if args.storage_class is not None:
            self._storage_class(args.storage_class, addons["aws-ebs-csi-driver"])
        self.ref = ClusterRef(
            name=self.cluster_name,
            endpoint=self.endpoint,
            oidc_provider_arn=self.oidc_provider_arn,
            oidc_issuer_url=self.oidc_issuer_url,
            security_group_id=self.cluster_security_group_id,
            kubernetes_version=args.kubernetes_version,
            system_node_selector=self.system_node_selector,
            system_tolerations=self.system_tolerations,
            provider=self.provider,
        )
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "oidcProviderArn": self.oidc_provider_arn,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "nodeRoleArn": self.node_role_arn,
                "kubeconfig": self.kubeconfig,
                # Only with webhook ports: stacks without them keep the outputs they had.
                **(
                    {"nodeSecurityGroupId": self.node_security_group_id}
                    if self.node_security_group_id is not None
                    else {}
                ),
            }
        )

    def _system_node_selector(self) -> dict[str, pulumi.Output[str]]:
        """The system group's nodes: by its name, or (per zone) by `NODE_GROUP_LABEL` once every zone's group is up."""
        args = self._args
        group = args.system_node_group
        if not args.node_groups[group].per_zone:
            return {"eks.amazonaws.com/nodegroup": self.node_groups[group].node_group_name}
        names = [self.node_groups[key].node_group_name for key in self._zone_keys(group)]
        return {NODE_GROUP_LABEL: pulumi.Output.all(*names).apply(lambda _: group)}

    def _zone_keys(self, group: str) -> list[str]:
        """The `node_groups` keys of a per-zone group: ``<group>-<zone letter>``, in zone order."""
        return [f"{group}-{zone_key(zone)}" for zone in self._args.node_subnets]

    def _node_security_group(self) -> list[pulumi.Input[str]]:
        """With webhook ports: the node security group and its rules; the groups every launch template then lists.

        Without any, nothing: EKS gives nodes the cluster security group itself. Naming any group in a launch template
        drops that (EKS User Guide, "Customize managed nodes with launch templates", "Using custom security
        groups": "If you specify custom security groups in the launch template ... Amazon EKS doesn't add the
        cluster security group"), so the templates list the cluster security group beside the node group.
        """
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        if not args.webhook_ports:
            return []
        problem = port_list_problem(tuple(args.webhook_ports))
        if problem:
            msg = f"webhook ports: {problem}"
            raise ValueError(msg)
        if args.vpc_id is None:
            msg = "webhook ports need the VPC of the node security group (vpc_id)"
            raise ValueError(msg)
        group = aws.ec2.SecurityGroup(
            f"{name}-node-sg",
            name=args.naming.name("node-sg"),
            description=f"Nodes of {args.naming.cluster_name}: admission webhooks from the control plane",
            vpc_id=args.vpc_id,
            opts=child,
        )
        for port in sorted(args.webhook_ports):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-node-sg-webhook-{port}",
                security_group_id=group.id,
                referenced_security_group_id=self.cluster_security_group_id,
                description=f"Admission webhooks on {port} from the control plane (cluster security group)",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                opts=child,
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-node-sg-egress",
            security_group_id=group.id,
            description="All traffic out (the cluster security group, beside it on every node, allows the same)",
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )
        self.node_security_group_id = group.id
        return [self.cluster_security_group_id, group.id]

    def _storage_class(self, spec: StorageClassSpec, driver: aws.eks.Addon) -> k8s.storage.v1.StorageClass:
        """The default StorageClass: encrypted gp3 from the EBS CSI driver, bound where the pod lands, expandable."""
        args = self._args
        parameters = {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
        if spec.kms_key_alias:
            # EC2 CreateVolume takes an alias ARN as KmsKeyId; the driver passes the parameter through.
            region, account = args.account.region, args.account.account_id
            parameters["kmsKeyId"] = f"arn:{args.account.partition}:kms:{region}:{account}:{spec.kms_key_alias}"
        return k8s.storage.v1.StorageClass(
            f"{self._name}-storage-class",
            metadata={"name": spec.name, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            provisioner="ebs.csi.aws.com",
            parameters=parameters,
            reclaim_policy=spec.reclaim_policy,
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self.provider,
                # Claims against the class bind only once the driver runs; nothing of the add-on is an input here.
                depends_on=[driver],
            ),
        )

    def _access_entry(
        self,
        cluster: aws.eks.Cluster,
        name: str,
        principal_arn: str,
        policies: Mapping[str, str],
        *,
        namespaces: Sequence[str] = (),
        kubernetes_groups: Sequence[str] = (),
        old_name: str | None = None,
    ) -> list[aws.eks.AccessPolicyAssociation]:
        """A STANDARD access entry ``name`` for ``principal_arn`` and an association ``<name>-<suffix>`` per policy.

        ``policies`` maps the suffix to an access policy name; the scope is ``namespaces`` or the whole cluster.
        ``old_name`` is the entry's earlier logical name: it and its associations keep it as an alias.
        """

        def opts(suffix: str = "") -> pulumi.ResourceOptions:
            aliases = [pulumi.Alias(name=f"{old_name}{suffix}")] if old_name else None
            return pulumi.ResourceOptions(parent=self, aliases=aliases)

        entry = aws.eks.AccessEntry(
            name,
            cluster_name=cluster.name,
            principal_arn=principal_arn,
            type="STANDARD",
            kubernetes_groups=list(kubernetes_groups) or None,
            opts=opts(),
        )
        scope: aws.eks.AccessPolicyAssociationAccessScopeArgsDict = (
            {"type": "namespace", "namespaces": list(namespaces)} if namespaces else {"type": "cluster"}
        )
        return [
            aws.eks.AccessPolicyAssociation(
                f"{name}-{suffix}",
                cluster_name=entry.cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=access_policy_arn(self._args.account.partition, policy),
                access_scope=scope,
                opts=opts(f"-{suffix}"),
            )
            for suffix, policy in policies.items()
        ]

    def _node_role(self) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{self._name}-node-role",
            name=self._args.naming.platform_role("node"),
            assume_role_policy=json.dumps(iam.service_trust_policy("ec2.amazonaws.com")),
            permissions_boundary=self._args.account.permissions_boundary,
            opts=child,
        )
        policies = [
            aws.iam.RolePolicyAttachment(
                f"{self._name}-node-{policy}",
                role=role.name,
                policy_arn=iam.managed_policy_arn(self._args.account.partition, policy),
                opts=child,
            )
            for policy in iam.NODE_ROLE_POLICIES
        ]
        return role, policies

    def _irsa(
        self,
        role: str,
        namespace: str,
        service_account: str,
        policy: str | None,
        inline_policies: Mapping[str, str] | None = None,
    ) -> IrsaRole:
        """An add-on's IRSA role: an AWS-managed policy (with its path: ``service-role/...``) if any, inline ones."""
        return IrsaRole(
            f"{self._name}-{role}",
            IrsaRoleArgs(
                role_name=self._args.naming.platform_role(role),
                # Built from the provider's outputs: the add-ons' roles come before ``self.ref`` exists.
                oidc=OidcIssuer(provider_arn=self.oidc_provider_arn, issuer_url=self.oidc_issuer_url),
                namespace=namespace,
                service_account=service_account,
                managed_policy_arns={iam.arn_name(policy): iam.managed_policy_arn(self._args.account.partition, policy)}
                if policy
                else {},
                inline_policies=dict(inline_policies or {}),
                permissions_boundary=self._args.account.permissions_boundary,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _addons(self, cluster: aws.eks.Cluster, *, before_nodes: bool) -> dict[str, aws.eks.Addon]:
        """Managed add-ons: the node-level ones before node groups, Deployments after them."""
        args = self._args
        versions = EKS_ADDON_VERSIONS[args.kubernetes_version]
        tolerations = taint_tolerations(args.node_groups.get(args.system_node_group))
        specs: dict[str, tuple[pulumi.Input[str] | None, dict[str, object]]]
        if before_nodes:
            # AmazonEKS_CNI_Policy grants the IPv4 actions only; an IPv6 cluster's CNI gets the guide's IPv6 policy.
            ipv6 = args.ip_family == "ipv6"
            cni = self._irsa(
                "vpc-cni",
                "kube-system",
                "aws-node",
                None if ipv6 else "AmazonEKS_CNI_Policy",
                inline_policies={"ipv6": json.dumps(iam.vpc_cni_ipv6_policy(args.account.partition))} if ipv6 else None,
            )
            specs = {
                "vpc-cni": (cni.role_arn, vpc_cni_configuration(args.vpc_cni)),
                "kube-proxy": (None, {}),
                "eks-pod-identity-agent": (None, {}),
            }
        else:
            alias = args.storage_class.kms_key_alias if args.storage_class else None
            kms = (
                iam.ebs_csi_kms_policy(
                    partition=args.account.partition,
                    region=args.account.region,
                    account_id=args.account.account_id,
                    key_alias=alias,
                )
                if alias
                else None
            )
            ebs = self._irsa(
                "ebs-csi",
                "kube-system",
                "ebs-csi-controller-sa",
                EBS_CSI_POLICY,
                inline_policies={"kms": json.dumps(kms)} if kms else None,
            )
            specs = {
                "coredns": (None, {"tolerations": tolerations} if tolerations else {}),
                "aws-ebs-csi-driver": (
                    ebs.role_arn,
                    {"controller": {"tolerations": tolerations}} if tolerations else {},
                ),
            }
        return {
            addon: aws.eks.Addon(
                f"{self._name}-addon-{addon}",
                cluster_name=cluster.name,
                addon_name=addon,
                addon_version=versions[addon],
                service_account_role_arn=role_arn,
                configuration_values=json.dumps(values) if values else None,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # Deployments need schedulable nodes, else the add-on stays DEGRADED until timeout.
                    depends_on=list(self.node_groups.values()) if not before_nodes else None,
                ),
            )
            for addon, (role_arn, values) in specs.items()
        }

    def _all_node_groups(
        self, cluster: aws.eks.Cluster, node_role: aws.iam.Role, prerequisites: Sequence[pulumi.Resource]
    ) -> dict[str, aws.eks.NodeGroup]:
        """Every managed node group, by `node_groups` key, with the node security group they list (if any)."""
        security_groups = self._node_security_group()
        return {
            key: node_group
            for group, spec in sorted(self._args.node_groups.items())
            for key, node_group in self._node_groups(
                cluster,
                group,
                spec,
                node_role=node_role,
                security_groups=security_groups,
                prerequisites=prerequisites,
            ).items()
        }

    def _node_groups(
        self,
        cluster: aws.eks.Cluster,
        group: str,
        spec: NodeGroupSpec,
        *,
        node_role: aws.iam.Role,
        security_groups: Sequence[pulumi.Input[str]],
        prerequisites: Sequence[pulumi.Resource],
    ) -> dict[str, aws.eks.NodeGroup]:
        """The group's managed node group, or one per zone (keyed ``<group>-<zone letter>``) with ``per_zone``."""
        args = self._args
        physical = args.naming.node_group(group)
        if not spec.per_zone:
            return {
                group: self._node_group(
                    cluster,
                    key=group,
                    physical=physical,
                    description=f"Node group {group} of {args.naming.cluster_name}",
                    spec=spec,
                    subnet_ids=list(args.node_subnets.values()),
                    node_role=node_role,
                    security_groups=security_groups,
                    prerequisites=prerequisites,
                )
            }
        taken = set(args.node_groups) - {group}
        groups = {}
        for key, (zone, subnet) in zip(self._zone_keys(group), args.node_subnets.items(), strict=True):
            if key in taken:
                msg = f"node group {group!r} in zone {zone} would be keyed {key!r}, the key of another node group"
                raise ValueError(msg)
            groups[key] = self._node_group(
                cluster,
                key=key,
                physical=zone_node_group_name(physical, zone),
                description=f"Node group {group} of {args.naming.cluster_name} in {zone}",
                spec=spec,
                subnet_ids=[subnet],
                node_role=node_role,
                security_groups=security_groups,
                prerequisites=prerequisites,
                labels={NODE_GROUP_LABEL: group},
            )
        return groups

    def _node_group(
        self,
        cluster: aws.eks.Cluster,
        *,
        key: str,
        physical: str,
        description: str,
        spec: NodeGroupSpec,
        subnet_ids: list[pulumi.Input[str]],
        node_role: aws.iam.Role,
        security_groups: Sequence[pulumi.Input[str]],
        prerequisites: Sequence[pulumi.Resource],
        labels: Mapping[str, str] | None = None,
    ) -> aws.eks.NodeGroup:
        """One managed node group ``<name>-<key>`` and its launch template: IMDSv2, encrypted gp3 volumes, tags."""
        args, child = self._args, pulumi.ResourceOptions(parent=self)
        propagated = {**args.account.tags, **args.node_group_tags, "Name": physical}
        template = aws.ec2.LaunchTemplate(
            f"{self._name}-{key}-lt",
            name=physical,
            description=f"{description}: IMDSv2, encrypted gp3",
            update_default_version=True,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": spec.metadata_hop_limit,
                "instance_metadata_tags": "disabled",
            },
            block_device_mappings=node_block_devices(spec.ami_type, spec.disk_size_gib),
            # None (not an empty list) without a node security group: EKS then adds the cluster security group.
            vpc_security_group_ids=list(security_groups) or None,
            monitoring={"enabled": True},
            tag_specifications=[
                {"resource_type": kind, "tags": propagated} for kind in ("instance", "volume", "network-interface")
            ],
            opts=child,
        )
        return aws.eks.NodeGroup(
            f"{self._name}-{key}",
            cluster_name=cluster.name,
            node_group_name=physical,
            version=args.kubernetes_version,
            node_role_arn=node_role.arn,
            subnet_ids=subnet_ids,
            ami_type=spec.ami_type,
            capacity_type=spec.capacity_type,
            instance_types=list(spec.instance_types),
            scaling_config={
                "min_size": spec.min_size,
                "max_size": spec.max_size,
                "desired_size": spec.desired_size,
            },
            update_config={"max_unavailable": 1},
            labels={**spec.labels, **(labels or {})},
            taints=[{"key": t.key, "value": t.value, "effect": t.effect.value} for t in spec.taints],
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            tags=dict(args.node_group_tags) or None,
            opts=pulumi.ResourceOptions(
                parent=self,
                # The autoscaler owns the desired size once the group exists.
                ignore_changes=["scalingConfig.desiredSize"],
                # A change of a create-only field (amiType, instanceTypes, capacityType, the node role) replaces the
                # group under the same name, and EKS refuses a second group of that name (ResourceInUseException):
                # the old group goes first. To roll without a gap, add a new group and remove the old one later.
                delete_before_replace=True,
                # Nodes join only once the role's policies are attached and the VPC CNI runs with its
                # IRSA role; neither is an input of the node group.
                depends_on=list(prerequisites),
            ),
        )
