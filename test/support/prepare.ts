// Run by `npm test` before the suites: builds what they need once, with its cost printed, instead
// of inside the first test hook that happens to need it. Exits 1 with one line when it cannot.
import { ensureControlPlaneBinaries } from "./control-plane.ts";
import { ensureHelm } from "./helm.ts";
import { kubeBackendKind } from "./kube-backend.ts";

try {
  // In parallel: on an empty module cache both spend most of their time downloading.
  await Promise.all([ensureHelm(), kubeBackendKind() === "real" ? ensureControlPlaneBinaries() : undefined]);
} catch (error) {
  process.stderr.write(`test setup: ${(error as Error).message}\n`);
  process.exit(1);
}
