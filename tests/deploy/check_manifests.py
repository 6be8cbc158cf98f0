"""Checks the deployment files that cannot run on a machine without Docker or Kubernetes:
  - deploy/k8s against the Kubernetes API schemas (kubernetes-validate, strict: unknown fields
    are errors), and that the manifests fit the server's drain: the grace period covers the
    preStop delay plus SHUTDOWN_GRACE, readiness and startup probes ask /ready, liveness does
    not depend on the database, every resource the kustomization lists exists and validates;
  - docker-compose.blue-green.yml against the Compose Specification schema (check-jsonschema's
    vendored copy), and that both colours are the same service with a health check of their
    own, a stop grace period above SHUTDOWN_GRACE, and Nginx reading deploy.sh's state folder;
  - the Dockerfile: multi-stage, a non-root user, HEALTHCHECK through `ninecloud healthcheck`;
  - deploy/gke, the GKE overlay, rendered by `kubectl kustomize`: its Kubernetes resources as
    above, its GKE resources (BackendConfig, FrontendConfig, ManagedCertificate) against their
    CRDs' schemas (tests/deploy/gke_crds.mjs), and that they fit Socket.IO and the server:
    a backend timeout far above the 30 s default, cookie affinity, the load balancer's health
    check on /ready at the container's port, draining as long as SHUTDOWN_GRACE, the Service
    naming the BackendConfig, the Ingress the certificate, the HPA on connections per pod.
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

# --- GKE overlay -------------------------------------------------------------------------------
import json  # noqa: E402

rendered = subprocess.run(
    ["kubectl", "kustomize", str(ROOT / "deploy" / "gke")], capture_output=True, text=True
)
if rendered.returncode != 0:
    problems.append(f"gke: kubectl kustomize: {rendered.stderr.strip()}")
    gke = {}
else:
    gke = {d["kind"]: d for d in yaml.safe_load_all(rendered.stdout)}
CRDS = ("BackendConfig", "FrontendConfig", "ManagedCertificate")
for kind, doc in gke.items():
    if kind in CRDS:
        continue
    try:
        kubernetes_validate.validate(doc, "1.33", strict=True)
    except kubernetes_validate.ValidationError as e:
        problems.append(f"gke {kind}: {e.message} at {'.'.join(map(str, e.path))}")
crds = subprocess.run(
    ["node", str(ROOT / "tests" / "deploy" / "gke_crds.mjs")],
    input="".join(json.dumps(gke[k]) + "\n" for k in CRDS if k in gke),
    capture_output=True,
    text=True,
)
if crds.returncode != 0:
    problems.append(f"gke CRDs: {crds.stdout.strip()} {crds.stderr.strip()}")
for kind in CRDS + ("Ingress", "HorizontalPodAutoscaler", "Service", "Deployment"):
    if kind not in gke:
        problems.append(f"gke: no {kind}")
if not problems or all(k in gke for k in CRDS):
    backend = gke["BackendConfig"]["spec"]
    if backend["timeoutSec"] < 600:
        problems.append("gke: the backend timeout is a WebSocket's whole life; make it long")
    if backend["sessionAffinity"]["affinityType"] != "GENERATED_COOKIE":
        problems.append("gke: long-polling needs cookie affinity")
    check = backend["healthCheck"]
    gke_pod = gke["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    http_port = {p["name"]: p["containerPort"] for p in gke_pod["ports"]}["http"]
    if check["requestPath"] != "/ready" or check["port"] != http_port:
        problems.append(f"gke: the load balancer must check /ready on port {http_port}")
    if backend["connectionDraining"]["drainingTimeoutSec"] != int(
        gke["ConfigMap"]["data"]["SHUTDOWN_GRACE"]
    ):
        problems.append("gke: connection draining must last SHUTDOWN_GRACE")
    annotations = gke["Service"]["metadata"].get("annotations", {})
    named = json.loads(annotations.get("cloud.google.com/backend-config", "{}"))
    if gke["BackendConfig"]["metadata"]["name"] not in list(named.values()) + list(
        named.get("ports", {}).values()
    ):
        problems.append("gke: the Service does not name the BackendConfig")
    if "ingress" not in annotations.get("cloud.google.com/neg", ""):
        problems.append("gke: the Service needs network endpoint groups for the Ingress")
    ingress_ann = gke["Ingress"]["metadata"]["annotations"]
    if ingress_ann.get("networking.gke.io/managed-certificates") != gke["ManagedCertificate"]["metadata"]["name"]:
        problems.append("gke: the Ingress does not use the managed certificate")
    if ingress_ann.get("kubernetes.io/ingress.class") != "gce" or "ingressClassName" in gke["Ingress"]["spec"]:
        problems.append("gke: the Ingress must be GKE's (gce), not ingress-nginx")
    hosts = {r["host"] for r in gke["Ingress"]["spec"]["rules"]}
    if not hosts <= set(gke["ManagedCertificate"]["spec"]["domains"]):
        problems.append("gke: the certificate does not cover the Ingress' hosts")
    metrics = gke["HorizontalPodAutoscaler"]["spec"]["metrics"]
    if not any(m["type"] == "Pods" and m["pods"]["metric"]["name"] == "ninecloud_sockets" for m in metrics):
        problems.append("gke: the HPA must scale on ninecloud_sockets per pod")
    if not any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in metrics):
        problems.append("gke: the HPA must scale on CPU")
    requests = gke_pod["resources"]["requests"]
    if not {"cpu", "memory"} <= set(requests):
        problems.append("gke: Autopilot needs CPU and memory requests")

for p in problems:
    print("deployment files:", p)
print(f"deployment files: {len(docs)} Kubernetes resources, the GKE overlay's {len(gke)}, the compose "
      f"file and the Dockerfile checked; {len(problems)} problems")
sys.exit(1 if problems else 0)
