"""Validates deploy/k8s against the Kubernetes API schemas (kubernetes-validate, strict: unknown
fields are errors) and checks that the manifests fit the server's drain:
  - the grace period covers the preStop delay plus SHUTDOWN_GRACE;
  - readiness and startup probes ask /ready, liveness does not depend on the database;
  - every resource the kustomization lists exists and validates.
Exit status 1 with the reasons when anything is off."""
import pathlib
import sys

import kubernetes_validate
import yaml

K8S = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "k8s"
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

for p in problems:
    print("deploy/k8s:", p)
print(f"deploy/k8s: {len(docs)} resources checked, {len(problems)} problems")
sys.exit(1 if problems else 0)
