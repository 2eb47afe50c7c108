"""Kubernetes rules: pod hardening on Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
CronJobs and Pods, network isolation and TLS. A helm Release's rendered pods are invisible to
policies (see :mod:`policies.lib.kubernetes`)."""
