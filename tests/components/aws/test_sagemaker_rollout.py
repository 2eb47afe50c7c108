"""Issue 12 item 11: an ``awsSagemakerInstanceType`` change is a working rollout.

SageMaker's rule (Developer Guide, "Update endpoints that use auto scaling"): an UpdateEndpoint
that changes the instance type of a variant registered with Application Auto Scaling fails;
delete its scaling policies and deregister the scalable target first, update the endpoint
(blue/green, same variant name), then register the target and its policy again.

The two plans (before and after the change) are captured under mocks; what the engine does
with the difference follows Pulumi's documented replacement rules, applied by
:func:`rollout_steps` to the recorded inputs and options:

- a changed input that forces replacement (a ``replaceOnChanges`` path, or a provider
  ForceNew input of the few types listed in :data:`FORCE_NEW`) replaces the resource; other
  changes update it in place;
- a replacement is create-before-delete unless ``deleteBeforeReplace``; the old resource of a
  create-before-delete replacement is deleted at the end of the update;
- for a delete-before-replace replacement, dependents that are replaced too are deleted
  first (reverse dependency order), then the resource itself;
- creations and updates run in dependency order.
"""

from __future__ import annotations

import pytest

from tests.conftest import one

OLD, NEW = "ml.m5.large", "ml.c5.xlarge"
#: Inputs the provider replaces a resource for (pulumi-aws schema: ForceNew), for the types here.
FORCE_NEW = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": {"productionVariants", "namePrefix", "dataCaptureConfig"},
    "aws:sagemaker/model:Model": {"primaryContainer", "executionRoleArn", "vpcConfig", "enableNetworkIsolation"},
    "aws:appautoscaling/policy:Policy": {"resourceId", "scalableDimension", "serviceNamespace", "name"},
    "aws:appautoscaling/target:Target": {"resourceId", "scalableDimension", "serviceNamespace"},
    "aws:ssm/parameter:Parameter": {"name"},
}
WATCHED = ("aws:sagemaker", "aws:appautoscaling", "aws:ssm")


@pytest.fixture(scope="module")
def plans(capture):
    before = capture("prod", {"servingRuntime": "sagemaker"})
    after = capture("prod", {"servingRuntime": "sagemaker", "awsSagemakerInstanceType": NEW})
    return before, after


def _deps(record, by_urn):
    urns = set(record["dependencies"])
    for deps in record["property_dependencies"].values():
        urns |= set(deps)
    return {u for u in urns if u in by_urn}


def _changed(old, new):
    return {k for k in set(old["inputs"]) | set(new["inputs"]) if old["inputs"].get(k) != new["inputs"].get(k)}


def rollout_steps(before, after):
    """The engine's steps for the change, as (verb, logical name) in execution order."""
    old = {r["urn"]: r for r in before if r["custom"]}
    new = {r["urn"]: r for r in after if r["custom"]}
    action = {}
    order = _topological(new)
    for urn in order:
        record = new[urn]
        if urn not in old:
            action[urn] = "create"
            continue
        # An input read from a replaced resource is unknown until the replacement exists (a
        # generated name, a new ARN): it changes even where the mocks give the same value.
        changed = _changed(old[urn], record) | {
            k for k, deps in record["property_dependencies"].items()
            if any(action.get(d, "").startswith("replace") for d in deps)}
        forced = set(record["replace_on_changes"]) | FORCE_NEW.get(record["type"], set())
        if changed & forced:
            action[urn] = "replace-dbr" if record["delete_before_replace"] else "replace"
        elif changed:
            action[urn] = "update"
    # Dependent replacements of each delete-before-replace root (the engine's
    # calculateDependentReplacements): a dependent whose ForceNew input has a property dependency
    # on a replaced resource becomes unknown, so the provider's diff replaces it. Only ForceNew
    # inputs count there (not replaceOnChanges), and plain dependsOn edges carry no property.
    early: dict[str, list[str]] = {}
    claimed: set[str] = set()
    for root in order:
        if action.get(root) != "replace-dbr" or root in claimed:
            continue
        replaced, chain = {root}, []
        for urn in order:
            record = new[urn]
            keys = {k for k, deps in record["property_dependencies"].items() if set(deps) & replaced}
            if urn != root and keys & FORCE_NEW.get(record["type"], set()):
                replaced.add(urn)
                chain.append(urn)
        early[root] = chain
        claimed |= set(chain)
    steps, deleted = [], set()
    for urn in order:
        verb = action.get(urn)
        name = new[urn]["name"]
        if urn in early:
            for d in reversed(early[urn]):
                steps.append(("delete", new[d]["name"]))
                deleted.add(d)
            steps.append(("delete", name))
            steps.append(("create", name))
        elif urn in deleted:
            steps.append(("create", name))  # re-created after its delete-before-replace root
        elif verb == "replace":
            steps.append(("create-replacement", name))
        elif verb == "replace-dbr":
            steps.append(("delete", name))
            steps.append(("create", name))
        elif verb in ("create", "update"):
            steps.append((verb, name))
    steps += [("delete-replaced", new[u]["name"]) for u in order if action.get(u) == "replace" and u not in deleted]
    return steps


def _topological(records):
    order, seen = [], set()

    def visit(urn):  # dependencies first
        if urn in seen:
            return
        seen.add(urn)
        for dep in sorted(_deps(records[urn], records)):
            visit(dep)
        order.append(urn)

    for urn in sorted(records):
        visit(urn)
    return order


def _watched(steps):
    return [(v, n) for v, n in steps if n.startswith("serving-")]


def test_the_variant_keeps_its_name_and_the_new_configuration_has_the_new_type(plans):
    before, after = plans
    old = one(before, "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "serving-endpoint-config")["inputs"]
    new = one(after, "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "serving-endpoint-config")["inputs"]
    assert [v["variantName"] for v in old["productionVariants"]] == [v["variantName"] for v in new["productionVariants"]]
    assert [v["instanceType"] for v in new["productionVariants"]] == [NEW]
    assert "name" not in new and new["namePrefix"]  # a generated name: the new one exists first
    target = one(after, "aws:appautoscaling/target:Target", "serving-scaling-target")["inputs"]
    assert target["resourceId"].endswith(f"/variant/{new['productionVariants'][0]['variantName']}")


def test_autoscaling_is_deregistered_before_the_endpoint_update_and_registered_after(plans):
    steps = _watched(rollout_steps(*plans))
    index = {step: i for i, step in enumerate(steps)}
    assert ("update", "serving-endpoint") in index, steps
    update = index[("update", "serving-endpoint")]
    # Policy, then target, deleted before the endpoint changes instance type...
    assert index[("delete", "serving-scaling-policy")] < index[("delete", "serving-scaling-target")] < update, steps
    # ...the new configuration exists before the update, the old one goes after it...
    assert index[("create-replacement", "serving-endpoint-config")] < update < index[("delete-replaced", "serving-endpoint-config")]
    # ...and the target and its policy are registered again on the updated endpoint.
    assert update < index[("create", "serving-scaling-target")] < index[("create", "serving-scaling-policy")], steps
    # Nothing else of serving is replaced: the model and the endpoint (its URL) stay.
    replaced = {n for v, n in steps if v in ("create-replacement", "delete")}
    assert replaced == {"serving-endpoint-config", "serving-scaling-policy", "serving-scaling-target", "serving-rollout"}, steps


def test_a_model_only_change_keeps_autoscaling_registered(capture, plans):
    """SageMaker allows a model change on a scaled variant: no deregistration then."""
    before, _ = plans
    after = capture("prod", {"servingRuntime": "sagemaker", "awsSagemakerModelDataKey": "models/demand/v2/model.tar.gz"})
    steps = _watched(rollout_steps(before, after))
    assert ("update", "serving-endpoint") in steps, steps
    assert not [s for s in steps if "scaling" in s[1]], steps


def test_the_step_model_sees_an_unordered_rollout(plans):
    """Fault injection: without delete-before-replace on the rollout record, the target would be
    replaced after the endpoint update (the failure SageMaker reports)."""
    before, after = plans
    broken = [dict(r, delete_before_replace=False) if r["name"] == "serving-rollout" else r for r in after]
    steps = _watched(rollout_steps(before, broken))
    index = {step: i for i, step in enumerate(steps)}
    assert ("delete", "serving-scaling-target") not in index or index[("delete", "serving-scaling-target")] > index[("update", "serving-endpoint")]


def test_the_new_fleet_starts_at_the_configured_count(capture):
    after = capture("prod", {"servingRuntime": "sagemaker", "awsSagemakerInstanceType": NEW,
                             "awsSagemakerRolloutInstanceCount": 5})
    config = one(after, "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "serving-endpoint-config")["inputs"]
    assert [v["initialInstanceCount"] for v in config["productionVariants"]] == [5]


def test_a_rollout_count_outside_the_replica_range_is_refused_in_one_line(capture):
    with pytest.raises(Exception) as info:
        capture("prod", {"servingRuntime": "sagemaker", "awsSagemakerRolloutInstanceCount": 50})
    message = str(info.value).strip()
    assert "awsSagemakerRolloutInstanceCount" in message and "50" in message and "\n" not in message, message
