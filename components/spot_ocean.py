"""SpotOcean: Spot by NetApp's Ocean scales the cluster's nodes (``nodeAutoscaler.engine: spot-ocean``).

What it creates: a ``pulumi_spotinst`` provider of its own (the Spot token from the ``spotToken`` secret, the Spot
account from the settings), the node IAM role (the policies every platform node role has,
`iam_documents.NODE_ROLE_POLICIES`) with its instance profile and an ``EC2_LINUX`` access entry, the
``spotinst.aws.Ocean`` cluster (controller id = the EKS cluster's name; private subnets; the managed node groups'
security groups; the EKS-optimized AL2023 AMI of a pinned release from its SSM public parameter; nodeadm user data;
IMDSv2 with hop limit 1; an encrypted gp3 root volume; the required tags and the cluster ownership tag on instances
and volumes; headroom, scale-down and resource limits; instance filters), a Kubernetes Secret holding the token and
the account, and the ``ocean-kubernetes-controller`` chart reading that Secret by name (``secret.create: false``), so
the token is never part of the release's values.

The chart's auto-updater is off (``spotinst.disableAutoUpdate``): it would replace the pinned chart version from
inside the cluster. The controller runs on the system node group with the chart's default tolerations kept.

Sources: spotinst/charts tag ocean-kubernetes-controller-0.1.74 (values.yaml; templates/secret.yaml and
deployment.yaml read keys ``token`` and ``account`` of the Secret named by ``secret.name``; _helpers.tpl
``defaultTolerations``); pulumi-spotinst 3.138.3 ``aws.Ocean`` inputs; the EKS User Guide's nodeadm ``NodeConfig``
(AL2023) and its "Retrieve recommended Amazon Linux AMI IDs" SSM parameter names.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_spotinst as spotinst

from components.context import AwsContext, ClusterRef
from components.helm_release import pinned_release, release_name
from components.naming import NamingContext
from components.node_identity import node_identity
from components.scheduling import Toleration, kubernetes_effect, linux_node_selector, timed_tolerations
from components.versions import OCEAN_AMI_RELEASE, OCEAN_CONTROLLER_CHART, ROOT_DEVICE

OCEAN_NAMESPACE = "kube-system"
OCEAN_RELEASE = "ocean-kubernetes-controller"
#: The Secret the chart reads (``secret.name``) with keys ``token`` and ``account`` (templates/deployment.yaml).
OCEAN_SECRET = "spotinst-ocean-credentials"  # noqa: S105 - a Secret's name, not its value
#: The chart's own tolerations (_helpers.tpl ``defaultTolerations``): a values list replaces them, so they are kept.
CHART_DEFAULT_TOLERATIONS: tuple[Mapping[str, Any], ...] = tuple(
    timed_tolerations(
        (
            Toleration(
                "node.kubernetes.io/not-ready", "Exists", effect=kubernetes_effect("NO_EXECUTE"), toleration_seconds=150
            ),
            Toleration(
                "node.kubernetes.io/unreachable",
                "Exists",
                effect=kubernetes_effect("NO_EXECUTE"),
                toleration_seconds=150,
            ),
            Toleration("node-role.kubernetes.io/master", "Exists"),
            Toleration("node-role.kubernetes.io/control-plane", "Exists"),
            Toleration("CriticalAddonsOnly", "Exists"),
        )
    )
)
#: AMI architectures (SSM parameter path segment and Ocean ``filters.architectures`` value).
ARCHITECTURES = ("x86_64", "arm64")
NODEADM_BOUNDARY = "NODEADM"


# --- what the settings map to (config.spot_ocean_spec) ---------------------------------------------------


@dataclass(frozen=True)
class AutomaticHeadroom:
    """Ocean sizes the headroom itself: ``percentage`` of the cluster's resources kept free (0-200)."""

    percentage: int


@dataclass(frozen=True)
class ManualHeadroom:
    """``units`` spare units of ``cpu_millicores`` and ``memory_mib`` each, kept free for pods to land on at once."""

    cpu_millicores: int
    memory_mib: int
    units: int


@dataclass(frozen=True)
class InstanceFilters:
    """Which instance types Ocean may launch (Spot ``filters``); None/empty: no bound of that kind."""

    categories: tuple[str, ...] = ()
    min_vcpu: int | None = None
    max_vcpu: int | None = None
    min_memory_gib: float | None = None
    max_memory_gib: float | None = None
    include_families: tuple[str, ...] = ()
    exclude_families: tuple[str, ...] = ()
    exclude_metal: bool = True


@dataclass(frozen=True)
class SpotOceanSpec:
    """The Ocean cluster's shape and strategy."""

    #: Spot account id (``act-`` and 8 hex digits).
    account_id: str
    min_size: int
    max_size: int
    desired_capacity: int
    headroom: AutomaticHeadroom | ManualHeadroom
    #: Scale-down: the most of the cluster removed in one action (percent), and aggressive scale-down.
    max_scale_down_percentage: int
    aggressive_scale_down: bool = False
    #: Cluster-wide bounds on what Ocean runs (None: unbounded).
    max_vcpu: int | None = None
    max_memory_gib: int | None = None
    architecture: str = "x86_64"
    filters: InstanceFilters = field(default_factory=InstanceFilters)
    spot_percentage: int = 100
    fallback_to_ondemand: bool = True
    utilize_reserved_instances: bool = True
    draining_timeout_seconds: int = 120
    root_volume_size_gib: int = 50
    #: Whether the chart installs its metrics-server subchart (off when metrics-server comes from elsewhere).
    metrics_server: bool = True


# --- pure planning ------------------------------------------------------------------------------------------


def ami_parameter(kubernetes_version: str, architecture: str, release: str = OCEAN_AMI_RELEASE) -> str:
    """The SSM public parameter holding the EKS-optimized AL2023 AMI id of ``release`` (``v20260714``)."""
    if architecture not in ARCHITECTURES:
        msg = f"architecture {architecture!r} is not one of {', '.join(ARCHITECTURES)}"
        raise ValueError(msg)
    base = f"/aws/service/eks/optimized-ami/{kubernetes_version}/amazon-linux-2023/{architecture}/standard"
    return f"{base}/amazon-eks-node-al2023-{architecture}-standard-{kubernetes_version}-{release}/image_id"


def node_config(*, cluster_name: str, endpoint: str, certificate_authority: str, service_cidr: str) -> dict[str, Any]:
    """Nodeadm's ``NodeConfig`` (node.eks.aws/v1alpha1): what an AL2023 node needs to join without calling EKS."""
    return {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {
            "cluster": {
                "name": cluster_name,
                "apiServerEndpoint": endpoint,
                "certificateAuthority": certificate_authority,
                "cidr": service_cidr,
            }
        },
    }


def nodeadm_user_data(**cluster: str) -> str:
    """Base64 MIME multi-part user data with one ``application/node.eks.aws`` part: the `node_config` as YAML."""
    document = json.dumps(node_config(**cluster), indent=2)  # JSON is YAML: nodeadm reads either
    text = "\n".join(
        [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/mixed; boundary="{NODEADM_BOUNDARY}"',
            "",
            f"--{NODEADM_BOUNDARY}",
            "Content-Type: application/node.eks.aws",
            "",
            "---",
            document,
            "",
            f"--{NODEADM_BOUNDARY}--",
            "",
        ]
    )
    return base64.b64encode(text.encode()).decode("ascii")


def cluster_owner_tag(cluster_name: str) -> str:
    """The tag key marking a node as this cluster's (value ``owned``)."""
    return f"kubernetes.io/cluster/{cluster_name}"


def instance_tags(
    tags: Mapping[str, str], *, cluster_name: pulumi.Input[str], name: str
) -> list[spotinst.aws.OceanTagArgsDict]:
    """The Ocean's ``tags``: the required tags and ``Name`` sorted by key, then the cluster ownership tag."""
    owner: spotinst.aws.OceanTagArgsDict = {
        "key": pulumi.Output.from_input(cluster_name).apply(cluster_owner_tag),
        "value": "owned",
    }
    plain: list[spotinst.aws.OceanTagArgsDict] = [
        {"key": key, "value": value} for key, value in sorted({**tags, "Name": name}.items())
    ]
    return [*plain, owner]


def autoscaler_settings(spec: SpotOceanSpec) -> dict[str, Any]:
    """The Ocean's ``autoscaler`` block: enabled, headroom (automatic or manual), scale-down and resource limits."""
    headroom: dict[str, Any]
    if isinstance(spec.headroom, AutomaticHeadroom):
        headroom = {"autoscale_is_auto_config": True, "auto_headroom_percentage": spec.headroom.percentage}
    else:
        headroom = {
            "autoscale_is_auto_config": False,
            "autoscale_headroom": {
                "cpu_per_unit": spec.headroom.cpu_millicores,
                "memory_per_unit": spec.headroom.memory_mib,
                "num_of_units": spec.headroom.units,
            },
        }
    limits = {
        key: value for key, value in (("max_vcpu", spec.max_vcpu), ("max_memory_gib", spec.max_memory_gib)) if value
    }
    return {
        "autoscale_is_enabled": True,
        **headroom,
        "autoscale_down": {
            "max_scale_down_percentage": spec.max_scale_down_percentage,
            "is_aggressive_scale_down_enabled": spec.aggressive_scale_down,
        },
        **({"resource_limits": limits} if limits else {}),
    }


def instance_filters(spec: SpotOceanSpec) -> dict[str, Any]:
    """The Ocean's ``filters``: the AMI's architecture plus the settings' bounds (unset bounds left out)."""
    f = spec.filters
    optional = {
        "categories": list(f.categories),
        "include_families": list(f.include_families),
        "exclude_families": list(f.exclude_families),
        "min_vcpu": f.min_vcpu,
        "max_vcpu": f.max_vcpu,
        "min_memory_gib": f.min_memory_gib,
        "max_memory_gib": f.max_memory_gib,
    }
    return {
        "architectures": [spec.architecture],
        "exclude_metal": f.exclude_metal,
        **{key: value for key, value in optional.items() if value not in (None, [])},
    }


def controller_values(
    *,
    cluster_identifier: pulumi.Input[str],
    node_selector: Mapping[str, pulumi.Input[str]],
    node_tolerations: Sequence[Mapping[str, str]],
    replicas: int,
    metrics_server: bool,
) -> dict[str, Any]:
    """Values of the ocean-kubernetes-controller chart: no token or account (they come from `OCEAN_SECRET`)."""
    return {
        "spotinst": {"clusterIdentifier": cluster_identifier, "disableAutoUpdate": True},
        "secret": {"create": False, "name": OCEAN_SECRET},
        "replicas": replicas,
        "nodeSelector": linux_node_selector(node_selector),
        "tolerations": [*(dict(t) for t in CHART_DEFAULT_TOLERATIONS), *(dict(t) for t in node_tolerations)],
        "metrics-server": {"deployChart": metrics_server},
    }


# --- the component ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpotOceanArgs:
    """Inputs of a SpotOcean."""

    naming: NamingContext
    spec: SpotOceanSpec
    cluster: ClusterRef
    account: AwsContext
    #: The Spot API token (a secret Output: ``secrets.require_secret("spotToken")``).
    spot_token: pulumi.Input[str]
    #: Where nodes run: the private subnets.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: The managed node groups' security groups (the cluster security group, and the node group with webhook ports).
    security_group_ids: Sequence[pulumi.Input[str]]
    #: The cluster's CA (base64) and service CIDR, for the nodes' nodeadm configuration.
    certificate_authority: pulumi.Input[str]
    service_cidr: pulumi.Input[str]
    #: Controller replicas (use 1 with a one-node system group).
    controller_replicas: int = 2


class SpotOcean(pulumi.ComponentResource):
    """Outputs: the Ocean's id, its node role, instance profile and the controller release's name."""

    ocean_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    instance_profile_arn: pulumi.Output[str]
    helm_release_name: pulumi.Output[str]

    def __init__(self, name: str, args: SpotOceanArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:SpotOcean", name, None, opts)
        spec, child = args.spec, pulumi.ResourceOptions(parent=self)
        cluster_name = pulumi.Output.from_input(args.cluster.name)

        identity = node_identity(
            name,
            parent=self,
            naming=args.naming,
            account=args.account,
            cluster_name=args.cluster.name,
            platform_role="spot-ocean-node",
            description="Nodes launched by Spot Ocean",
        )
        node_role, node_prerequisites = identity.role, identity.prerequisites
        profile = aws.iam.InstanceProfile(
            f"{name}-node-profile",
            name=args.naming.name("spot-ocean-node", "instance_profile"),
            role=node_role.name,
            opts=child,
        )

        image = aws.ssm.get_parameter_output(
            name=ami_parameter(args.cluster.kubernetes_version, spec.architecture),
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        user_data = pulumi.Output.all(
            cluster_name, args.cluster.endpoint, args.certificate_authority, args.service_cidr
        ).apply(
            lambda v: nodeadm_user_data(cluster_name=v[0], endpoint=v[1], certificate_authority=v[2], service_cidr=v[3])
        )
        provider = spotinst.Provider(
            f"{name}-spotinst",
            token=pulumi.Output.secret(args.spot_token),
            account=spec.account_id,
            opts=child,
        )
        physical = args.naming.name("spot-ocean")
        ocean = spotinst.aws.Ocean(
            f"{name}-ocean",
            name=physical,
            controller_id=args.cluster.name,
            region=args.account.region,
            subnet_ids=list(args.subnet_ids),
            security_groups=list(args.security_group_ids),
            # A public parameter: its value is no secret (`value` is one in pulumi-aws, and would make imageId one).
            image_id=image.insecure_value,
            iam_instance_profile=profile.arn,
            user_data=user_data,
            instance_metadata_options=spotinst.aws.OceanInstanceMetadataOptionsArgs(
                http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                spotinst.aws.OceanBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=spotinst.aws.OceanBlockDeviceMappingEbsArgs(
                        volume_type="gp3",
                        volume_size=spec.root_volume_size_gib,
                        encrypted=True,
                        delete_on_termination=True,
                    ),
                )
            ],
            monitoring=True,
            associate_public_ip_address=False,
            tags=instance_tags(args.account.tags, cluster_name=args.cluster.name, name=physical),
            resource_tag_specifications=[spotinst.aws.OceanResourceTagSpecificationArgs(should_tag_volumes=True)],
            min_size=spec.min_size,
            max_size=spec.max_size,
            desired_capacity=spec.desired_capacity,
            spot_percentage=spec.spot_percentage,
            fallback_to_ondemand=spec.fallback_to_ondemand,
            utilize_reserved_instances=spec.utilize_reserved_instances,
            draining_timeout=spec.draining_timeout_seconds,
            autoscaler=spotinst.aws.OceanAutoscalerArgs(**autoscaler_settings(spec)),
            filters=spotinst.aws.OceanFiltersArgs(**instance_filters(spec)),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                # Ocean launches nodes once it exists: they join only once the role's policies and the access entry
                # exist, and neither is an input here (the instance profile is).
                depends_on=node_prerequisites,
                # Ocean owns its size once it runs (its autoscaler moves desiredCapacity).
                ignore_changes=["desiredCapacity"],
            ),
        )
        credentials = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={"name": OCEAN_SECRET, "namespace": OCEAN_NAMESPACE},
            type="Opaque",
            string_data={"token": pulumi.Output.secret(args.spot_token), "account": spec.account_id},
            opts=child,
        )
        release = pinned_release(
            f"{name}-controller",
            OCEAN_CONTROLLER_CHART,
            name=OCEAN_RELEASE,
            namespace=OCEAN_NAMESPACE,
            timeout=600,
            max_history=10,
            values=controller_values(
                cluster_identifier=ocean.controller_id.apply(lambda value: value or ""),
                node_selector=args.cluster.system_node_selector,
                node_tolerations=args.cluster.system_tolerations,
                replicas=args.controller_replicas,
                metrics_server=spec.metrics_server,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The controller reads the Secret by name at start (the values carry its name, not a reference).
                depends_on=[credentials],
            ),
        )

        self.ocean_id = ocean.id
        self.node_role_arn, self.node_role_name = node_role.arn, node_role.name
        self.instance_profile_arn = profile.arn
        self.helm_release_name = release_name(release, OCEAN_RELEASE)
        self.register_outputs(
            {
                "oceanId": self.ocean_id,
                "nodeRoleArn": self.node_role_arn,
                "nodeRoleName": self.node_role_name,
                "instanceProfileArn": self.instance_profile_arn,
                "helmReleaseName": self.helm_release_name,
            }
        )
