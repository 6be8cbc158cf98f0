"""Checks the deployment files that cannot run on a machine without Docker or Kubernetes:
  - deploy/k8s against the Kubernetes API schemas (kubernetes-validate, strict: unknown fields
    are errors), and that the manifests fit the server's drain: the grace period covers the
    preStop delay plus SHUTDOWN_GRACE, readiness and startup probes ask /ready, liveness does
    not depend on the database, every resource the kustomization lists exists and validates;
  - docker-compose.blue-green.yml against the Compose Specification schema (check-jsonschema's
    vendored copy), and that both colours are the same service with a health check of their
    own, a stop grace period above SHUTDOWN_GRACE, and Nginx reading deploy.sh's state folder;
  - the Dockerfile: multi-stage, a non-root user, HEALTHCHECK through `ninecloud healthcheck`.
Exit status 1 with the reasons when anything is off."""
import pathlib
import re
import subprocess
import sys

import kubernetes_validate
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
problems = []

kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
docs = {}
for name in kustomization["resources"]:
    for doc in yaml.safe_load_all((K8S / name).read_text()):
        try:
            kubernetes_validate.validate(doc, "1.33", strict=True)
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{name}: {e.message} at {'.'.join(map(str, e.path))}")
        docs[doc["kind"]] = doc

config = docs["ConfigMap"]["data"]
pod = docs["Deployment"]["spec"]["template"]["spec"]
container = pod["containers"][0]
pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
grace = int(config["SHUTDOWN_GRACE"])
if pod["terminationGracePeriodSeconds"] < pre_stop + grace + 5:
    problems.append(
        f"terminationGracePeriodSeconds {pod['terminationGracePeriodSeconds']} < preStop "
        f"{pre_stop} + SHUTDOWN_GRACE {grace} + 5"
    )
for probe in ("startupProbe", "readinessProbe"):
    if container[probe].get("httpGet", {}).get("path") != "/ready":
        problems.append(f"{probe} must ask /ready")
if "httpGet" in container["livenessProbe"]:
    problems.append("livenessProbe must not restart pods when the database is down")
ingress = docs["Ingress"]["metadata"]["annotations"]
if int(ingress["nginx.ingress.kubernetes.io/proxy-read-timeout"]) <= 45:
    problems.append("the Ingress read timeout must exceed Socket.IO's ping interval + timeout")
if docs["Deployment"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] != 0:
    problems.append("a rolling update must not take a pod away before its successor is ready")

# The metrics: on their own port in the pod, announced for scraping, reachable through the
# Service's `metrics` port that the ServiceMonitor (a CRD, not validated above) names.
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
metrics_port = int(config.get("METRICS_ADDR", ":0").rsplit(":", 1)[1])
if ports.get("metrics") != metrics_port:
    problems.append(f"the container's metrics port {ports.get('metrics')} is not METRICS_ADDR's {metrics_port}")
annotations = docs["Deployment"]["spec"]["template"]["metadata"].get("annotations", {})
if annotations.get("prometheus.io/port") != str(metrics_port):
    problems.append("the pod's prometheus.io/port annotation does not name the metrics port")
service_ports = {p["name"] for p in docs["Service"]["spec"]["ports"]}
monitor = yaml.safe_load((K8S / "servicemonitor.yaml").read_text())
if monitor["spec"]["selector"]["matchLabels"] != docs["Service"]["metadata"]["labels"]:
    problems.append("the ServiceMonitor does not select the Service")
for endpoint in monitor["spec"]["endpoints"]:
    if endpoint["port"] not in service_ports:
        problems.append(f"the ServiceMonitor scrapes port {endpoint['port']}, which the Service lacks")
# --- docker compose ---------------------------------------------------------------------------
COMPOSE = ROOT / "docker-compose.blue-green.yml"
schema = subprocess.run(
    ["check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
    capture_output=True,
    text=True,
)
if schema.returncode != 0:
    problems.append(f"compose: {schema.stdout.strip()} {schema.stderr.strip()}")
compose = yaml.safe_load(COMPOSE.read_text())
services = compose["services"]
for name in ("nginx", "blue", "green", "postgres", "redis", "mongo", "minio"):
    if name not in services:
        problems.append(f"compose: no {name} service")
blue, green = services["blue"], services["green"]
if blue != green:
    problems.append("compose: blue and green must be the same service")
if blue.get("healthcheck", {}).get("test") != ["CMD", "ninecloud", "healthcheck"]:
    problems.append("compose: a colour's health check must be its own `ninecloud healthcheck`")
if int(blue["stop_grace_period"].rstrip("s")) <= grace:
    problems.append("compose: stop_grace_period must exceed SHUTDOWN_GRACE")
for name, svc in services.items():
    if name != "minio-bucket" and "healthcheck" not in svc:
        problems.append(f"compose: {name} has no health check")
if not any("DEPLOY_STATE_DIR" in v and v.endswith(":/etc/nginx/ninecloud") for v in services["nginx"]["volumes"]):
    problems.append("compose: nginx must read deploy.sh's state folder at /etc/nginx/ninecloud")
if not compose.get("volumes"):
    problems.append("compose: the stores need named volumes")

# --- Dockerfile ---------------------------------------------------------------------------------
dockerfile = (ROOT / "Dockerfile").read_text()
if len(re.findall(r"^FROM ", dockerfile, re.M)) < 2:
    problems.append("Dockerfile: not multi-stage")
user = re.findall(r"^USER (\S+)", dockerfile, re.M)
if not user or user[-1] in ("root", "0"):
    problems.append("Dockerfile: the server must not run as root")
if not re.search(r'^\s*CMD \["ninecloud", "healthcheck"\]', dockerfile, re.M):
    problems.append("Dockerfile: HEALTHCHECK must run `ninecloud healthcheck`")
rust = re.search(r"^FROM rust:(\d+)\.(\d+)", dockerfile, re.M)
if not rust or (int(rust[1]), int(rust[2])) < (1, 94):
    problems.append("Dockerfile: socketioxide 0.18 needs rustc 1.94 or newer")

for p in problems:
    print("deployment files:", p)
print(f"deployment files: {len(docs)} Kubernetes resources, the compose file and the Dockerfile "
      f"checked; {len(problems)} problems")
sys.exit(1 if problems else 0)
