"""data-stores-protected: in prod, data stores are declared with ``protect=True`` so that
``pulumi destroy`` or a replacement cannot delete them: S3 buckets, KMS keys, ECR repositories,
SageMaker model package groups, storage accounts, Key Vaults, container registries, Azure ML
workspaces and Kubernetes PersistentVolumeClaims. (``retain_on_delete`` is not visible to
policies; the components set both from ``protectData``.)"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.settings import ENVIRONMENT_PROPERTY, is_prod

NAME = "data-stores-protected"
DATA_STORES = {
    t.S3_BUCKET: "S3 bucket",
    t.S3_BUCKET_V2: "S3 bucket",
    t.KMS_KEY: "KMS key",
    t.ECR_REPOSITORY: "ECR repository",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": "SageMaker model package group",
    t.AZ_STORAGE_ACCOUNT: "storage account",
    t.AZ_KEY_VAULT: "Key Vault",
    t.AZ_CONTAINER_REGISTRY: "container registry",
    t.AZ_ML_WORKSPACE: "Azure ML workspace",
    t.K8S_PVC: "PersistentVolumeClaim",
}
FIX = "set protectData: true in the stack config (ResourceOptions(protect=True, retain_on_delete=True))"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    label = DATA_STORES.get(args.resource_type)
    if label is None or not is_prod(args):
        return
    if not (args.opts is not None and args.opts.protect):
        report_violation(f"{label} '{args.name}' is not protected in prod; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether data stores (buckets, keys, registries, workspaces, vaults, volumes) are protected from "
        "deletion in prod. Fix: set protectData true so they get protect=True."
    ),
    resource_types=tuple(DATA_STORES),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties=ENVIRONMENT_PROPERTY,
)
