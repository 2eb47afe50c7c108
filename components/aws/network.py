"""Network on AWS: a VPC over several zones with public and private subnets, NAT, VPC endpoints
and flow logs.

Zones are named by letter (``eu-west-1a`` -> ``a``) and each subnet's name and CIDR come from
that letter's index, never from the zone's position in a list: adding a zone, or the region
listing zones differently, never renumbers or replaces an existing subnet or NAT gateway.

CIDR plan for a /N VPC (N from 16 to 20): eight /N+3 blocks; block i (zone letter index i,
a..g) is zone i's private subnet, and block 7 is cut into eight /N+6 public subnets, again by
zone index. A /16 gives /19 private subnets (8,187 pod/node addresses each: the VPC CNI gives
pods VPC addresses) and /22 public ones.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pulumi_aws as aws

from .common import AwsContext, allow, service_trust

MAX_ZONE_INDEX = 6  # zone letters a..g: block 7 holds the public subnets
ELB_ROLE_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_ROLE_TAG = "kubernetes.io/role/internal-elb"


def zone_index(zone: str) -> int:
    """``eu-west-1c`` -> 2: the stable index of a zone, from its letter."""
    return ord(zone[-1]) - ord("a")


def subnet_cidrs(vpc_cidr: str, index: int) -> tuple[str, str]:
    """(private, public) CIDR of the zone with stable ``index`` (pure; see the module doc)."""
    net = ipaddress.IPv4Network(vpc_cidr)  # IPv4 only (components/common.py check_cidr)
    blocks = list(net.subnets(new_prefix=net.prefixlen + 3))
    public = list(blocks[7].subnets(new_prefix=net.prefixlen + 6))
    return str(blocks[index]), str(public[index])


def pick_zones(available: list[str], count: int) -> list[str]:
    """The first ``count`` zones by letter (deterministic whatever order the API returns)."""
    return sorted(available, key=lambda z: (zone_index(z), z))[:count]


def _check(ctx: AwsContext, settings: Any, zones: list[str]) -> None:
    if settings.availability_zones < 2:
        ctx.fail("availability_zones", settings.availability_zones, "2 to 6 on aws (EKS needs two zones)")
    if len(zones) < settings.availability_zones:
        ctx.fail("availability_zones", settings.availability_zones,
                 f"at most the {len(zones)} zones available in {ctx.region}")
    prefix = ipaddress.ip_network(settings.cidr).prefixlen
    if prefix > 20:
        ctx.fail("cidr", settings.cidr, "a /16 to /20 network on aws (subnets are carved by zone index)")
    for zone in zones:
        if not 0 <= zone_index(zone) <= MAX_ZONE_INDEX:
            ctx.fail("availability_zones", zone, "zones lettered a to g")


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    ctx = AwsContext(component, name, settings)
    available = aws.get_availability_zones(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        opts=ctx.invoke_opts(),
    ).names
    zones = pick_zones(list(available), settings.availability_zones)
    _check(ctx, settings, zones)

    vpc = aws.ec2.Vpc(
        f"{name}-vpc",
        aws.ec2.VpcArgs(
            cidr_block=settings.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # required by private DNS on interface endpoints
            tags=ctx.tagged(f"{pulumi.get_stack()}-{name}"),
        ),
        opts=ctx.opts(),
    )
    # The default security group admits and emits nothing: anything that wants traffic says so.
    aws.ec2.DefaultSecurityGroup(
        f"{name}-default-sg",
        aws.ec2.DefaultSecurityGroupArgs(vpc_id=vpc.id, ingress=[], egress=[], tags=ctx.tagged()),
        opts=ctx.opts(),
    )
    public, private = _subnets(ctx, vpc, settings.cidr, zones)
    _routing(ctx, vpc, zones, public, private, settings.high_availability)
    _endpoints(ctx, vpc, settings.cidr, private)
    _flow_logs(ctx, vpc)

    return {
        "network_id": vpc.id,
        "cidr": settings.cidr,
        "private_subnet_ids": pulumi.Output.all(*[s.id for s in private.values()]),
        "public_subnet_ids": pulumi.Output.all(*[s.id for s in public.values()]),
        # The namespace is created by Cluster once the EKS cluster exists.
        "namespace": settings.namespace,
    }


def _subnets(
    ctx: AwsContext, vpc: aws.ec2.Vpc, cidr: str, zones: list[str]
) -> tuple[dict[str, aws.ec2.Subnet], dict[str, aws.ec2.Subnet]]:
    public: dict[str, aws.ec2.Subnet] = {}
    private: dict[str, aws.ec2.Subnet] = {}
    for zone in zones:
        letter = zone[-1]
        private_cidr, public_cidr = subnet_cidrs(cidr, zone_index(zone))
        public[zone] = aws.ec2.Subnet(
            f"{ctx.name}-public-{letter}",
            aws.ec2.SubnetArgs(
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=public_cidr,
                # Only load balancers and NAT gateways live here; nothing gets a public IP by default.
                map_public_ip_on_launch=False,
                tags=ctx.tagged(f"{ctx.name}-public-{zone}", **{ELB_ROLE_TAG: "1"}),
            ),
            opts=ctx.opts(),
        )
        private[zone] = aws.ec2.Subnet(
            f"{ctx.name}-private-{letter}",
            aws.ec2.SubnetArgs(
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=private_cidr,
                map_public_ip_on_launch=False,
                tags=ctx.tagged(f"{ctx.name}-private-{zone}", **{INTERNAL_ELB_ROLE_TAG: "1"}),
            ),
            opts=ctx.opts(),
        )
    return public, private


def _routing(
    ctx: AwsContext,
    vpc: aws.ec2.Vpc,
    zones: list[str],
    public: dict[str, aws.ec2.Subnet],
    private: dict[str, aws.ec2.Subnet],
    high_availability: bool,
) -> None:
    name = ctx.name
    igw = aws.ec2.InternetGateway(
        f"{name}-igw", aws.ec2.InternetGatewayArgs(vpc_id=vpc.id, tags=ctx.tagged()), opts=ctx.opts()
    )
    public_rt = aws.ec2.RouteTable(
        f"{name}-public-rt",
        aws.ec2.RouteTableArgs(
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=ctx.tagged(f"{name}-public"),
        ),
        opts=ctx.opts(),
    )
    # One NAT per zone (high availability: a zone outage cuts only that zone's egress), or one
    # in the lowest-lettered zone. Either way its name is its zone's, so switching keeps it.
    nat_zones = zones if high_availability else zones[:1]
    nats: dict[str, aws.ec2.NatGateway] = {}
    for zone in nat_zones:
        letter = zone[-1]
        eip = aws.ec2.Eip(
            f"{name}-nat-eip-{letter}", aws.ec2.EipArgs(domain="vpc", tags=ctx.tagged(f"{name}-nat-{zone}")),
            opts=ctx.opts(),
        )
        nats[zone] = aws.ec2.NatGateway(
            f"{name}-nat-{letter}",
            aws.ec2.NatGatewayArgs(subnet_id=public[zone].id, allocation_id=eip.id, tags=ctx.tagged(f"{name}-nat-{zone}")),
            opts=ctx.opts(depends_on=[igw]),
        )
    private_rts = []
    for zone in zones:
        letter = zone[-1]
        aws.ec2.RouteTableAssociation(
            f"{name}-public-rta-{letter}",
            aws.ec2.RouteTableAssociationArgs(subnet_id=public[zone].id, route_table_id=public_rt.id),
            opts=ctx.opts(),
        )
        nat = nats.get(zone) or nats[nat_zones[0]]
        rt = aws.ec2.RouteTable(
            f"{name}-private-rt-{letter}",
            aws.ec2.RouteTableArgs(
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=ctx.tagged(f"{name}-private-{zone}"),
            ),
            opts=ctx.opts(),
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-private-rta-{letter}",
            aws.ec2.RouteTableAssociationArgs(subnet_id=private[zone].id, route_table_id=rt.id),
            opts=ctx.opts(),
        )
        private_rts.append(rt)
    # S3 through a gateway endpoint: free, and artifact traffic never crosses the NAT.
    aws.ec2.VpcEndpoint(
        f"{name}-s3-endpoint",
        aws.ec2.VpcEndpointArgs(
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{ctx.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts],
            tags=ctx.tagged(f"{name}-s3"),
        ),
        opts=ctx.opts(),
    )


def _endpoints(ctx: AwsContext, vpc: aws.ec2.Vpc, cidr: str, private: dict[str, aws.ec2.Subnet]) -> None:
    name = ctx.name
    sg = aws.ec2.SecurityGroup(
        f"{name}-endpoints-sg",
        aws.ec2.SecurityGroupArgs(
            name=ctx.cloud("aws", "endpoints"),
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            vpc_id=vpc.id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=443, to_port=443, cidr_blocks=[cidr], description="HTTPS from the VPC"
                )
            ],
            egress=[],  # endpoints answer; they never open connections
            tags=ctx.tagged(f"{name}-endpoints"),
        ),
        opts=ctx.opts(),
    )
    for service in ctx.options["interface_endpoints"]:
        aws.ec2.VpcEndpoint(
            f"{name}-{service.replace('.', '-')}-endpoint",
            aws.ec2.VpcEndpointArgs(
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{ctx.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private.values()],
                security_group_ids=[sg.id],
                tags=ctx.tagged(f"{name}-{service}"),
            ),
            opts=ctx.opts(),
        )


def _flow_logs(ctx: AwsContext, vpc: aws.ec2.Vpc) -> None:
    name = ctx.name
    group_name = ctx.log_group_name("flow-logs")
    key = ctx.kms_key("flow-logs", "VPC flow logs", [ctx.logs_service_statement([group_name])])
    group = ctx.log_group("flow", group_name, ctx.options["flow_log_retention_days"], key)
    trust = service_trust(
        ["vpc-flow-logs.amazonaws.com"], condition={"StringEquals": {"aws:SourceAccount": ctx.account_id}}
    )
    role = ctx.role("flow-logs", trust, "VPC flow logs delivery to its log group")
    streams = group.arn.apply(lambda arn: f"{arn}:*")
    ctx.role_policy(
        "flow-logs",
        role,
        [
            allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], [group.arn, streams]),
            # Flow logs check their destination with DescribeLogGroups, which supports no
            # resource-level permission (Service Authorization Reference, CloudWatch Logs:
            # resource "*" only); scoped to a log-group ARN it is simply denied. It reads names
            # only and grants nothing else.
            allow(["logs:DescribeLogGroups"], ["*"]),
        ],
    )
    aws.ec2.FlowLog(
        f"{name}-flow-log",
        aws.ec2.FlowLogArgs(
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=ctx.tagged(),
        ),
        opts=ctx.opts(),
    )
