// Validates the GKE custom resources of deploy/gke (JSON documents on standard input, one per
// line) against their CRDs' schemas, as @kubernetes-models/gke generates them from GKE's CRDs.
// Prints one line per problem; exit status 1 if any. Called by check_manifests.py.
import { createInterface } from 'node:readline';
import { BackendConfig } from '@kubernetes-models/gke/cloud.google.com/v1/BackendConfig';
import { FrontendConfig } from '@kubernetes-models/gke/networking.gke.io/v1beta1/FrontendConfig';
import { ManagedCertificate } from '@kubernetes-models/gke/networking.gke.io/v1/ManagedCertificate';

const MODELS = {
  'cloud.google.com/v1/BackendConfig': BackendConfig,
  'networking.gke.io/v1beta1/FrontendConfig': FrontendConfig,
  'networking.gke.io/v1/ManagedCertificate': ManagedCertificate,
};
let problems = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const doc = JSON.parse(line);
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) {
    console.log(`${doc.apiVersion} ${doc.kind}: no schema here`);
    problems++;
    continue;
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    console.log(`${doc.kind} ${doc.metadata?.name}: ${e.message}`);
    problems++;
  }
}
process.exit(problems ? 1 : 0);
