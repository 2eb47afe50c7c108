"""e2e level 2: run the pods the dev stack declared, exactly as declared, on a Docker engine,
and prove the platform's flow: train -> register -> champion -> serving Ready -> /predict ->
drift status -> metrics.

No kubelet: each pod spec (read back from the API server with kubectl, or from a rendered file
with --objects) becomes one `docker run` with the declared image, command, args, env, memory
and CPU limits, user/group (+fsGroup), read-only root, dropped capabilities, no privilege
escalation, volumes (emptyDir -> tmpfs of the declared size, PVC -> a Docker volume owned by
fsGroup, as the kubelet would chown it) and probes (run by this script with the declared path,
port, period and failure threshold, from inside the pod's own network namespace). Pods join one
user-defined `--internal` network (no route out) with each Service's DNS names as network
aliases; Services that remap ports (serving: 80 -> 8080) are reached on the target port.
The training Job is the one `ml.launch.local.job_manifest` emits (applied and read back when an
API server is there). Images the project builds are tagged as the declared references; the
MLflow server image is the training image (which carries the full mlflow package), because
ghcr.io cannot be pulled here. Third-party images that cannot be pulled (registry:2) are not run.

Writes every observation to <work>/level2.json and one line to <results>/level2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DOCKER = os.environ.get("MLOPS_E2E_DOCKER_CLI", "/usr/bin/docker")
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")


class Failed(Exception):
    pass


def sh(*argv: str, timeout: float = 120, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, input=input)
    if check and proc.returncode != 0:
        raise Failed(f"{shlex.join(argv[:4])}... exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return proc


def quantity_bytes(q: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?", str(q))
    if not m:
        raise Failed(f"memory quantity {q!r} is not understood")
    mult = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9, None: 1}[m[2]]
    return int(float(m[1]) * mult)


def cpus(q: str) -> str:
    q = str(q)
    return str(int(q[:-1]) / 1000) if q.endswith("m") else q


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tag = f"mlops-l2-{os.getpid()}"
        self.network = self.tag
        self.containers: dict[str, str] = {}  # pod name -> container id
        self.volumes: list[str] = []
        self.obs: list[dict[str, Any]] = []
        self.deadline = time.monotonic() + args.timeout

    # ---- bookkeeping ---------------------------------------------------------------------
    def note(self, check: str, ok: bool, detail: str) -> bool:
        self.obs.append({"check": check, "ok": ok, "detail": detail, "t": round(time.monotonic() - (self.deadline - self.args.timeout), 1)})
        print(f"level2: {'ok  ' if ok else 'FAIL'} {check}: {detail}", flush=True)
        return ok

    def left(self) -> float:
        return self.deadline - time.monotonic()

    # ---- objects ---------------------------------------------------------------------------
    def objects(self) -> list[dict[str, Any]]:
        if self.args.objects:
            return json.loads(Path(self.args.objects).read_text())["items"]
        out = sh(KUBECTL, "get", "deployments,services", "-n", self.args.namespace, "-o", "json")
        return json.loads(out.stdout)["items"]

    def training_job(self, tracking_uri: str, image: str) -> dict[str, Any]:
        from ml.launch.config import LaunchConfig
        from ml.launch.local import job_manifest
        from ml.launch.outputs import StackOutputs

        outputs = StackOutputs(mlflow_tracking_uri=tracking_uri, training_image_uri=image, namespace=self.args.namespace)
        job = job_manifest(outputs, LaunchConfig(rows=self.args.rows, job_name="e2e-train"))
        if not self.args.objects:  # through the API server: validated, defaulted, read back
            sh(KUBECTL, "apply", "-f", "-", input=json.dumps(job))
            job = json.loads(sh(KUBECTL, "get", "job", job["metadata"]["name"], "-n", self.args.namespace, "-o", "json").stdout)
        return job

    # ---- images ----------------------------------------------------------------------------
    def image_for(self, declared: str) -> str | None:
        repo = declared.rsplit("/", 1)[-1].split(":")[0].split("@")[0]
        repo = repo.removeprefix("mlops-")  # level 1 declares servingImage mlops-serving:e2e
        built = {"serving": self.args.serving_image, "training": self.args.training_image,
                 "mlflow": self.args.training_image}.get(repo)
        if built is None:
            return None
        if declared != built:
            sh(DOCKER, "tag", built, declared)
        return declared

    # ---- pods ------------------------------------------------------------------------------
    def start_pod(self, name: str, pod: dict[str, Any], aliases: list[str]) -> str:
        spec = pod["spec"]
        (container,) = spec["containers"]
        psc, csc = spec.get("securityContext") or {}, container.get("securityContext") or {}
        uid = csc.get("runAsUser", psc.get("runAsUser"))
        gid = csc.get("runAsGroup", psc.get("runAsGroup"))
        argv = [DOCKER, "run", "-d", "--pull", "never", "--name", f"{self.tag}-{name}", "--label", f"mlops-e2e={self.tag}",
                "--network", self.network, "--hostname", name[:63]]
        for alias in aliases:
            argv += ["--network-alias", alias]
        if uid is not None:
            argv += ["--user", f"{uid}:{gid if gid is not None else uid}"]
        if psc.get("fsGroup") is not None:
            argv += ["--group-add", str(psc["fsGroup"])]
        if csc.get("readOnlyRootFilesystem"):
            argv.append("--read-only")
        for cap in (csc.get("capabilities") or {}).get("drop", []):
            argv += ["--cap-drop", cap]
        if csc.get("allowPrivilegeEscalation") is False:
            argv += ["--security-opt", "no-new-privileges"]
        if csc.get("privileged"):
            raise Failed(f"{name}: privileged containers are not run")
        limits = (container.get("resources") or {}).get("limits") or {}
        if "memory" in limits:
            mem = quantity_bytes(limits["memory"])
            argv += ["--memory", str(mem), "--memory-swap", str(mem)]
        if "cpu" in limits:
            argv += ["--cpus", cpus(limits["cpu"])]
        for env in container.get("env") or []:
            if "value" not in env:
                raise Failed(f"{name}: env {env['name']} uses valueFrom, which level 2 does not resolve")
            argv += ["--env", f"{env['name']}={env['value']}"]
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for mount in container.get("volumeMounts") or []:
            vol = volumes[mount["name"]]
            if "emptyDir" in vol:
                size = (vol["emptyDir"] or {}).get("sizeLimit", "256Mi")
                argv += ["--tmpfs", f"{mount['mountPath']}:rw,nosuid,nodev,size={quantity_bytes(size)},mode=1777"]
            elif "persistentVolumeClaim" in vol:
                vname = f"{self.tag}-{vol['persistentVolumeClaim']['claimName']}"
                if vname not in self.volumes:
                    sh(DOCKER, "volume", "create", "--label", f"mlops-e2e={self.tag}", vname)
                    self.volumes.append(vname)
                    if psc.get("fsGroup") is not None:  # the kubelet's fsGroup ownership change
                        sh(DOCKER, "run", "--rm", "--pull", "never", "--network", "none", "--user", "0", "-v", f"{vname}:/v",
                           "--entrypoint", "chown", container["image"], "-R", f"{uid}:{psc['fsGroup']}", "/v")
                argv += ["-v", f"{vname}:{mount['mountPath']}"]
            else:
                raise Failed(f"{name}: volume {mount['name']} kind {sorted(vol)} is not supported at level 2")
        if container.get("workingDir"):
            argv += ["--workdir", container["workingDir"]]
        command, args = container.get("command"), container.get("args") or []
        if command:
            argv += ["--entrypoint", command[0], container["image"], *command[1:], *args]
        else:
            argv += [container["image"], *args]
        cid = sh(*argv).stdout.strip()
        self.containers[name] = cid
        self.note(f"{name} started", True, f"{container['image']} as {uid}:{gid}, limits {limits}, aliases {aliases[:1]}...")
        return cid

    def state(self, name: str) -> dict[str, Any]:
        return json.loads(sh(DOCKER, "inspect", "--format", "{{json .State}}", self.containers[name]).stdout)

    def http_in(self, name: str, url: str, body: str | None = None, timeout: float = 5) -> tuple[int, str]:
        """An HTTP call made from inside pod ``name``'s network namespace (its own python)."""
        code = (
            "import sys,urllib.request,urllib.error\n"
            "req=urllib.request.Request(sys.argv[1],data=(sys.argv[2].encode() if len(sys.argv)>2 else None),"
            "headers={'Content-Type':'application/json'})\n"
            "try:\n r=urllib.request.urlopen(req,timeout=%s); print(r.status); print(r.read().decode()[:20000])\n"
            "except urllib.error.HTTPError as e:\n print(e.code); print(e.read().decode()[:2000])\n"
            "except Exception as e:\n print(0); print(repr(e))\n" % timeout
        )
        proc = sh(DOCKER, "exec", self.containers[name], "python", "-c", code, url, *([body] if body else []),
                  timeout=timeout + 30, check=False)
        if proc.returncode != 0:
            return 0, proc.stderr.strip()[-300:]
        status, _, text = proc.stdout.partition("\n")
        return int(status or 0), text

    def probe_url(self, pod: dict[str, Any], probe: dict[str, Any]) -> str:
        (container,) = pod["spec"]["containers"]
        port = probe["httpGet"]["port"]
        if isinstance(port, str):
            port = next(p["containerPort"] for p in container["ports"] if p.get("name") == port)
        return f"http://127.0.0.1:{port}{probe['httpGet'].get('path', '/')}"

    def await_probe(self, name: str, pod: dict[str, Any], kind: str, budget: float | None = None) -> tuple[bool, str]:
        """Run the declared probe: success once, within periodSeconds * failureThreshold (or the
        given budget), like the kubelet's startup probe / a Deployment rollout's wait."""
        (container,) = pod["spec"]["containers"]
        probe = container.get(kind)
        if not probe:
            return True, "no probe declared"
        period, failures = probe.get("periodSeconds", 10), probe.get("failureThreshold", 3)
        budget = budget if budget is not None else (period * failures + probe.get("initialDelaySeconds", 0)) * self.args.probe_slack
        end = time.monotonic() + min(budget, self.left())
        url, last = self.probe_url(pod, probe), ""
        while time.monotonic() < end:
            st = self.state(name)
            if not st["Running"]:
                return False, f"container exited {st['ExitCode']} (OOMKilled={st['OOMKilled']})"
            code, text = self.http_in(name, url, timeout=probe.get("timeoutSeconds", 1) + 1)
            if 200 <= code < 400:
                return True, f"{url} -> {code} {text.strip()[:120]}"
            last = f"{code} {text.strip()[:160]}"
            time.sleep(period)
        return False, f"{url} not passing after {budget:.0f}s: {last}"

    def mem_mib(self, name: str) -> float:
        out = sh(DOCKER, "stats", "--no-stream", "--format", "{{.MemUsage}}", self.containers[name], check=False).stdout
        m = re.match(r"([\d.]+)(KiB|MiB|GiB|B)", out.strip())
        return float(m[1]) * {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[m[2]] if m else -1.0

    def cgroup_memory(self, name: str) -> tuple[float, int]:
        """(peak memory charged to the container's cgroup in MiB, kernel OOM kills inside it):
        cgroup v1 files of Docker's cgroupfs layout; (-1, -1) where they are not there. A worker
        OOM-killed inside the pod counts here even when the main process survives."""
        cid = self.containers[name]
        base = Path("/sys/fs/cgroup/memory/docker") / sh(DOCKER, "inspect", "--format", "{{.Id}}", cid).stdout.strip()
        try:
            peak = int((base / "memory.max_usage_in_bytes").read_text()) / 2**20
            kills = next(int(line.split()[1]) for line in (base / "memory.oom_control").read_text().splitlines()
                         if line.startswith("oom_kill "))
            return peak, kills
        except (OSError, StopIteration, ValueError):
            return -1.0, -1

    def memory_check(self, name: str, limit: str, check: str) -> bool:
        st = self.state(name)
        peak, kills = self.cgroup_memory(name)
        # Reported, not judged: uvicorn's supervisor also restarts a worker that stops answering
        # its ping, which a heavily loaded machine causes without any memory pressure.
        died = len(re.findall(r"Child process \[\d+\] died", self.logs(name, 400)))
        ok = st["Running"] and not st["OOMKilled"] and kills <= 0 and 0 <= peak < 0.9 * quantity_bytes(limit) / 2**20
        return self.note(check, ok, f"now {self.mem_mib(name):.0f} MiB, cgroup peak {peak:.0f} MiB of limit {limit}; "
                                    f"kernel OOM kills {kills}; worker deaths logged {died}; running={st['Running']} "
                                    f"OOMKilled={st['OOMKilled']}")

    def logs(self, name: str, lines: int = 15) -> str:
        p = sh(DOCKER, "logs", "--tail", str(lines), self.containers[name], check=False, timeout=30)
        return (p.stdout + p.stderr)[-1500:]

    def cleanup(self) -> None:
        for cid in self.containers.values():
            sh(DOCKER, "rm", "-f", cid, check=False, timeout=60)
        for v in self.volumes:
            sh(DOCKER, "volume", "rm", "-f", v, check=False)
        sh(DOCKER, "network", "rm", self.network, check=False)

    # ---- the flow --------------------------------------------------------------------------
    def flow(self) -> bool:
        ns = self.args.namespace
        objs = self.objects()
        deployments = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Deployment"}
        services = [o for o in objs if o["kind"] == "Service"]
        sh(DOCKER, "network", "create", "--internal", "--label", f"mlops-e2e={self.tag}", self.network)

        def aliases(labels: dict[str, str]) -> list[str]:
            out = []
            for svc in services:
                sel = svc["spec"].get("selector") or {}
                if sel and all(labels.get(k) == v for k, v in sel.items()):
                    n = svc["metadata"]["name"]
                    out += [n, f"{n}.{ns}", f"{n}.{ns}.svc", f"{n}.{ns}.svc.cluster.local"]
            return out

        mlflow_name = next(n for n, d in deployments.items() if "mlflow" in d["spec"]["template"]["spec"]["containers"][0]["image"])
        serving_name = next(n for n, d in deployments.items()
                            if any(e["name"] == "SERVING_MODEL_URI" for e in d["spec"]["template"]["spec"]["containers"][0].get("env", [])))
        for n, d in deployments.items():
            c = d["spec"]["template"]["spec"]["containers"][0]
            if self.image_for(c["image"]) is None:
                self.note(f"{n} not run", True, f"third-party image {c['image']} cannot be pulled here")
        pods = {n: deployments[n]["spec"]["template"] for n in (mlflow_name, serving_name)}
        serving_env = {e["name"]: e["value"] for e in pods[serving_name]["spec"]["containers"][0]["env"]}
        tracking = serving_env["SERVING_TRACKING_URI"]

        # 1. MLflow: starts within its startup budget, stays within its memory limit.
        self.start_pod(mlflow_name, pods[mlflow_name], aliases(pods[mlflow_name]["metadata"]["labels"]))
        limit = pods[mlflow_name]["spec"]["containers"][0]["resources"]["limits"]["memory"]
        ok, detail = self.await_probe(mlflow_name, pods[mlflow_name], "startupProbe")
        if not self.note("mlflow startup probe", ok, detail + ("" if ok else " | " + self.logs(mlflow_name, 6))):
            self.memory_check(mlflow_name, limit, "mlflow memory")
            return False
        time.sleep(min(20, max(0, self.left() - 600)))  # let background workers (job runner) come up
        if not self.memory_check(mlflow_name, limit, "mlflow memory"):
            return False

        # 2. Serving: Ready before any model exists (a fresh `pulumi up` must finish).
        self.start_pod(serving_name, pods[serving_name], aliases(pods[serving_name]["metadata"]["labels"]))
        ok, detail = self.await_probe(serving_name, pods[serving_name], "startupProbe")
        self.note("serving startup probe", ok, detail)
        if not ok:
            self.note("serving logs", False, self.logs(serving_name))
            return False
        ok, detail = self.await_probe(serving_name, pods[serving_name], "readinessProbe", budget=self.args.ready_budget)
        if not self.note("serving Ready without a model (first `up` finishes)", ok, detail):
            self.note("serving logs", False, self.logs(serving_name))

        # 3. The registry API through the Service name, from the serving pod (Host-header check).
        code, text = self.http_in(serving_name, f"{tracking}/api/2.0/mlflow/registered-models/search?max_results=5")
        if not self.note(f"MLflow API via {tracking}", code == 200, f"{code} {text.strip()[:160]}"):
            return False
        if not ok:
            return False

        # 4. Train -> register -> champion: the training Job, as the launcher declares it.
        training_image = self.image_for(self.args.job_image)
        job = self.training_job(tracking, training_image)
        pod = job["spec"]["template"]
        self.start_pod("train", pod, aliases(pod["metadata"].get("labels") or {}))
        end = time.monotonic() + min(job["spec"].get("activeDeadlineSeconds", 3600), self.left() - 120)
        while time.monotonic() < end and self.state("train")["Running"]:
            time.sleep(5)
        st = self.state("train")
        if not self.note("training Job", not st["Running"] and st["ExitCode"] == 0 and not st["OOMKilled"],
                         f"exit {st['ExitCode']} OOMKilled={st['OOMKilled']}: {self.logs('train', 6).strip()[-400:]}"):
            return False
        model_uri = serving_env["SERVING_MODEL_URI"]
        name, alias = model_uri.removeprefix("models:/").split("@")
        code, text = self.http_in(serving_name, f"{tracking}/api/2.0/mlflow/registered-models/alias?name={name}&alias={alias}")
        if not self.note(f"champion alias {model_uri}", code == 200, f"{code} {text.strip()[:200]}"):
            return False

        # 5. Serving picks the champion up, /predict answers.
        port = next(p["containerPort"] for p in pods[serving_name]["spec"]["containers"][0]["ports"])
        base = f"http://127.0.0.1:{port}"
        loaded, detail = False, ""
        end = time.monotonic() + min(self.args.load_budget, self.left() - 60)
        while time.monotonic() < end:
            code, text = self.http_in(serving_name, f"{base}/health/ready")
            detail = f"{code} {text.strip()[:200]}"
            if code == 200 and "awaiting_model" not in text:
                loaded = True
                break
            time.sleep(5)
        if not self.note("serving loaded the champion", loaded, detail):
            return False
        payload = self.sample_rows(training_image)
        code, text = self.http_in(serving_name, f"{base}/predict", body=payload)
        if not self.note("/predict", code == 200, f"{code} {text.strip()[:200]}"):
            return False
        code, text = self.http_in(serving_name, f"{base}/drift/status")
        self.note("/drift/status", code == 200, f"{code} {text.strip()[:200]}")
        code, text = self.http_in(serving_name, f"{base}/metrics")
        metrics_ok = code == 200 and re.search(r"^serving_model_loaded(\{[^}]*\})? 1(\.0)?$", text, re.M) is not None
        self.note("/metrics", metrics_ok, f"{code}; serving_model_loaded 1: {metrics_ok}; "
                  f"{len([l for l in text.splitlines() if l.startswith('serving_')])} serving_* samples")
        self.memory_check(mlflow_name, limit, "mlflow memory after the flow")
        return all(o["ok"] for o in self.obs)

    def sample_rows(self, training_image: str) -> str:
        code = ("import json; from ml import data; df = data.generate_demand(8, seed=7); "
                "print(json.dumps(df[list(data.DEMAND_FEATURES)].to_dict('records')))")
        out = sh(DOCKER, "run", "--rm", "--pull", "never", "--network", "none", "--read-only", "--tmpfs", "/tmp", "--user", "10001:10001",
                 "--entrypoint", "python", training_image, "-c", code, timeout=180)
        return out.stdout.strip().splitlines()[-1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--namespace", default="mlops")
    p.add_argument("--objects", help="rendered objects JSON (scripts/e2e/render_objects.py) instead of kubectl")
    p.add_argument("--serving-image", required=True)
    p.add_argument("--training-image", required=True)
    p.add_argument("--job-image", default=os.environ.get("E2E_TRAINING_IMAGE", "mlops-platform/training:e2e"),
                   help="the training image reference the Job names (the stack output training_image_uri)")
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--probe-slack", type=float, default=float(os.environ.get("LEVEL2_PROBE_SLACK", "1")),
                   help="multiply the declared probe budgets (a loaded 2-core CI machine starts MLflow slowly)")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--ready-budget", type=float, default=240, help="seconds serving has to become Ready")
    p.add_argument("--load-budget", type=float, default=300, help="seconds serving has to load the champion")
    p.add_argument("--work", default=os.environ.get("E2E_WORK", "/tmp/mlops-e2e-level2"))
    p.add_argument("--results", default=os.environ.get("E2E_RESULTS"))
    p.add_argument("--label", default="", help="tag for the observation file (e.g. before)")
    args = p.parse_args()
    run = Run(args)
    ok, why = False, ""
    try:
        ok = run.flow()
    except (Failed, subprocess.TimeoutExpired, StopIteration, KeyError) as exc:
        why = f"{type(exc).__name__}: {exc}"
        run.note("level2 aborted", False, why)
    finally:
        run.cleanup()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    (work / f"level2{'-' + args.label if args.label else ''}.json").write_text(json.dumps(run.obs, indent=1))
    if ok:
        source = "offline-rendered specs" if args.objects else "pod specs read back from the API server"
        line = (f"ok — MLflow, serving and the training Job ran on Docker as declared ({source}: limits, user, "
                "read-only root, probes, Service DNS aliases); train -> register -> champion -> Ready -> /predict -> "
                "drift -> metrics; Prometheus operator stays a kwok pod")
    else:
        failed = next((o for o in run.obs if not o["ok"]), {"check": "?", "detail": why})
        line = f"FAILED — {failed['check']}: {failed['detail'][:300]}"
    if args.results:
        Path(args.results).mkdir(parents=True, exist_ok=True)
        Path(args.results, "level2").write_text(line + "\n")
    print(f"e2e level 2: {line}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
