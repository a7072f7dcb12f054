// A real Kubernetes control plane for the tests: etcd, kube-apiserver and kube-controller-manager,
// built from the Go module proxy at pinned versions and started on free loopback ports.
//
// k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces each of its staging modules
// (k8s.io/api, k8s.io/apiserver, ...) with a local path. A wrapper module that requires it and
// replaces each of those with the published v0.<minor>.<patch> builds it; etcd builds from a
// wrapper that requires its server module. 10 to 15 minutes on 2 cores with an empty module cache,
// seconds when cached (~/.cache/aws-nlb-controller/control-plane-<versions>/).

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, fetch as undiciFetch } from "undici";
import { type SupervisedProcess, startSupervised } from "../../src/sandbox/supervised-process.ts";
import { buildIntoCache, CACHE_ROOT, findGo, GO_BUILD_TIMEOUT_MS, isExecutable, runGo } from "./go-build.ts";

export const KUBERNETES_VERSION = "v1.34.4";
export const ETCD_VERSION = "v3.6.16";

/** Timeout for a hook that may have to build the control plane first. */
export const CONTROL_PLANE_SETUP_TIMEOUT_MS = GO_BUILD_TIMEOUT_MS + 2 * 60_000;

/**
 * What kube-controller-manager runs: only what the product relies on in a real cluster. The
 * serviceaccount controller makes each namespace's `default` account, without which no Pod is admitted.
 */
export const CONTROLLERS = [
  "endpointslice",
  "endpointslicemirroring",
  "garbagecollector",
  "namespace",
  "serviceaccount",
];

const binDir = join(CACHE_ROOT, `control-plane-kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}`);

export interface ControlPlaneBinaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
}

const binaries: ControlPlaneBinaries = {
  kubeApiserver: join(binDir, "kube-apiserver"),
  kubeControllerManager: join(binDir, "kube-controller-manager"),
  etcd: join(binDir, "etcd"),
};

export const GO_MISSING_MESSAGE = `the real Kubernetes control plane needs Go to build kube-apiserver ${KUBERNETES_VERSION} and etcd ${ETCD_VERSION}: install Go (https://go.dev/dl/), point KUBECONFIG at a cluster, or set KUBE_BACKEND=emulator`;

/** Data directories start with this; each holds OWNER_FILE, the pid of the process that made it. */
export const CONTROL_PLANE_DIR_PREFIX = "nlb-control-plane-";
export const OWNER_FILE = "owner-pid";

/** The namespace whose ServiceAccounts' requests are audited (the chart's release namespace in the tests). */
export const AUDITED_NAMESPACE = "kube-system";

const AUDIT_POLICY = {
  apiVersion: "audit.k8s.io/v1",
  kind: "Policy",
  omitStages: ["RequestReceived"],
  rules: [
    { level: "Metadata", userGroups: [`system:serviceaccounts:${AUDITED_NAMESPACE}`] },
    { level: "None" },
  ],
};

let building: Promise<ControlPlaneBinaries> | undefined;

/** Paths of the pinned binaries, built into the cache first when they are not there yet. */
export function ensureControlPlaneBinaries(): Promise<ControlPlaneBinaries> {
  building ??= locateOrBuild();
  return building;
}

async function locateOrBuild(): Promise<ControlPlaneBinaries> {
  const present = await Promise.all(Object.values(binaries).map(isExecutable));
  if (present.every(Boolean)) return binaries;
  const go = await findGo();
  if (go === undefined) throw new Error(GO_MISSING_MESSAGE);
  const started = Date.now();
  process.stderr.write(
    `control plane: building kube-apiserver and kube-controller-manager ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION} (10 to 15 minutes on first use)\n`,
  );
  await buildIntoCache(binDir, ["kube-apiserver", "kube-controller-manager", "etcd"], async (out) => {
    await buildKubernetes(go, out);
    await buildEtcd(go, out);
  });
  process.stderr.write(
    `control plane: built in ${((Date.now() - started) / 1000).toFixed(0)} s into ${binDir}\n`,
  );
  return binaries;
}

async function buildKubernetes(go: string, out: string): Promise<void> {
  const dir = join(out, "kubernetes-wrapper");
  await mkdir(dir);
  const info = JSON.parse(
    await runGo(go, ["mod", "download", "-json", `k8s.io/kubernetes@${KUBERNETES_VERSION}`], { cwd: dir }),
  ) as { GoMod: string };
  const staging = stagingModules(await readFile(info.GoMod, "utf8"));
  const published = `v0.${KUBERNETES_VERSION.slice(3)}`;
  await writeFile(
    join(dir, "go.mod"),
    [
      "module nlbtest/kubernetes",
      "",
      "go 1.24.0",
      "",
      `require k8s.io/kubernetes ${KUBERNETES_VERSION}`,
      "",
      "replace (",
      ...staging.map((m) => `\t${m} => ${m} ${published}`),
      ")",
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "tools.go"),
    '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n)\n',
  );
  await runGo(go, ["mod", "tidy"], { cwd: dir });
  await runGo(
    go,
    [
      "build",
      "-trimpath",
      "-ldflags",
      versionLdflags(),
      "-o",
      `${out}/`,
      "k8s.io/kubernetes/cmd/kube-apiserver",
      "k8s.io/kubernetes/cmd/kube-controller-manager",
    ],
    { cwd: dir },
  );
}

/** The staging modules k8s.io/kubernetes replaces with local paths (`X => ./staging/src/X`). */
export function stagingModules(goMod: string): string[] {
  const found = [...goMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map(
    (m) => m[1] as string,
  );
  if (found.length === 0) throw new Error("k8s.io/kubernetes go.mod lists no staging modules");
  return found;
}

/** What kube's own release build stamps in, so /version and kubectl see a real version. */
function versionLdflags(): string {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split(".");
  const vars = {
    gitVersion: KUBERNETES_VERSION,
    gitMajor: major,
    gitMinor: minor,
    gitTreeState: "clean",
    buildDate: "1970-01-01T00:00:00Z",
  };
  const flags = ["-s", "-w"];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    for (const [name, value] of Object.entries(vars)) flags.push(`-X ${pkg}.${name}=${value}`);
  }
  return flags.join(" ");
}

async function buildEtcd(go: string, out: string): Promise<void> {
  const dir = join(out, "etcd-wrapper");
  await mkdir(dir);
  await writeFile(
    join(dir, "go.mod"),
    `module nlbtest/etcd\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 ${ETCD_VERSION}\n`,
  );
  await writeFile(
    join(dir, "tools.go"),
    '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n',
  );
  await runGo(go, ["mod", "tidy"], { cwd: dir });
  await runGo(
    go,
    ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(out, "etcd"), "go.etcd.io/etcd/server/v3"],
    {
      cwd: dir,
    },
  );
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> of kube-apiserver. */
  readonly url: string;
  /** The data directory (etcd, keys, certificates, kubeconfigs); removed by stop(). */
  readonly dir: string;
  /** The serving certificate bundle (its self-signed CA included): what a client must trust. */
  readonly caFile: string;
  readonly caPem: string;
  /** The serving key, for a proxy that stands in front of kube-apiserver on 127.0.0.1. */
  readonly keyPem: string;
  /** Bearer token of an identity in system:masters. */
  readonly adminToken: string;
  readonly adminKubeconfig: string;
  /** A dispatcher for undici's fetch that trusts the serving certificate. */
  readonly dispatcher: Agent;
  /**
   * kube-apiserver's audit log (JSON lines, level Metadata) of every request made by a
   * ServiceAccount of AUDITED_NAMESPACE: what the controller asked for, and what RBAC answered.
   */
  readonly auditLog: string;
  /** Milliseconds from the first spawn until kube-apiserver and kube-controller-manager were ready. */
  readonly startupMs: number;
  /** Writes a kubeconfig for `token` (a ServiceAccount's, say), to `server` (default: url), and returns its path. */
  writeKubeconfig(name: string, token: string, server?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StartControlPlaneOptions {
  /** Receives every line the three processes print, prefixed by their names. */
  log?: (line: string) => void;
  /** Extra kube-apiserver flags (`--name=value`). */
  apiserverFlags?: string[];
}

/** Starts etcd, kube-apiserver and kube-controller-manager; resolves once all three are ready. */
export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const bin = await ensureControlPlaneBinaries();
  const started = performance.now();
  // etcd's writes are the start-up and the bench's bottleneck: keep its data in memory where there is a tmpfs.
  const dir = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), CONTROL_PLANE_DIR_PREFIX));
  // At once: a process killed during start-up leaves a directory a later run knows is stale.
  await writeFile(join(dir, OWNER_FILE), String(process.pid));
  const processes: SupervisedProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of processes.reverse()) await p.stop(5_000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [etcdClient, etcdPeer, apiserverPort, kcmPort] = await freePorts(4);
    const logOf = (name: string) => (line: string) => options.log?.(`${name}: ${line}`);

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    const etcd = startSupervised(
      bin.etcd,
      [
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        "--unsafe-no-fsync",
        "--quota-backend-bytes=8589934592",
        "--log-level=error",
      ],
      { log: logOf("etcd") },
    );
    processes.push(etcd);
    await waitUntil("etcd", etcd, async () => (await fetch(`${etcdUrl}/health`)).ok);
    // Another run may have taken the client port first (freePorts cannot hold it): then the etcd
    // answering is not ours, and ours has exited or will. Ours is the member with our peer URL.
    const members = (await (
      await fetch(`${etcdUrl}/v3/cluster/member/list`, { method: "POST", body: "{}" })
    ).json()) as { members?: { peerURLs?: string[] }[] };
    if (!members.members?.some((m) => m.peerURLs?.includes(peerUrl)))
      throw new Error(`etcd: another etcd answers on ${etcdUrl}; ours did not start`);

    const adminToken = randomBytes(24).toString("hex");
    await writeFile(join(dir, "tokens.csv"), `${adminToken},admin,admin-uid,"system:masters"\n`);
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(join(dir, "sa.key"), keys.privateKey.export({ type: "pkcs1", format: "pem" }));
    await writeFile(join(dir, "sa.pub"), keys.publicKey.export({ type: "spki", format: "pem" }));
    const url = `https://127.0.0.1:${apiserverPort}`;
    const certDir = join(dir, "pki");
    const auditLog = join(dir, "audit.log");
    await writeFile(join(dir, "audit-policy.json"), JSON.stringify(AUDIT_POLICY));
    const apiserver = startSupervised(
      bin.kubeApiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiserverPort}`,
        // No --tls-cert-file: kube-apiserver makes a CA and a serving certificate for 127.0.0.1 here.
        `--cert-dir=${certDir}`,
        `--token-auth-file=${join(dir, "tokens.csv")}`,
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${join(dir, "sa.pub")}`,
        `--service-account-signing-key-file=${join(dir, "sa.key")}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        // The `kubernetes` Service's endpoints would be 127.0.0.1, which Endpoints refuse.
        "--endpoint-reconciler-type=none",
        // On top of the defaults: owner references with blockOwnerDeletion then need `update` on the
        // owner's finalizers, as on clusters that run it (OpenShift); the RBAC test sees what it costs.
        "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
        "--profiling=false",
        `--audit-policy-file=${join(dir, "audit-policy.json")}`,
        `--audit-log-path=${auditLog}`,
        "--audit-log-format=json",
        "--audit-log-mode=blocking",
        ...(options.apiserverFlags ?? []),
      ],
      { log: logOf("kube-apiserver") },
    );
    processes.push(apiserver);
    const caFile = join(certDir, "apiserver.crt");
    await waitUntil("kube-apiserver", apiserver, async () => {
      if (!existsSync(caFile)) return false;
      // A fresh Agent each try: the certificate may have been read while kube-apiserver wrote it.
      const probe = new Agent({ connect: { ca: await readFile(caFile, "utf8") } });
      try {
        const res = await undiciFetch(`${url}/readyz`, {
          headers: { Authorization: `Bearer ${adminToken}` },
          dispatcher: probe,
        });
        return res.ok && (await res.text()) === "ok";
      } finally {
        await probe.close();
      }
    });
    const caPem = await readFile(caFile, "utf8");
    const keyPem = await readFile(join(certDir, "apiserver.key"), "utf8");

    const writeKubeconfig = async (name: string, token: string, server = url): Promise<string> => {
      const path = join(dir, `${name}.kubeconfig`);
      await writeFile(path, kubeconfigText(server, caPem, name, token), { mode: 0o600 });
      return path;
    };
    const adminKubeconfig = await writeKubeconfig("admin", adminToken);

    const kcm = startSupervised(
      bin.kubeControllerManager,
      [
        `--kubeconfig=${adminKubeconfig}`,
        `--authentication-kubeconfig=${adminKubeconfig}`,
        `--authorization-kubeconfig=${adminKubeconfig}`,
        "--authentication-skip-lookup",
        `--controllers=${CONTROLLERS.join(",")}`,
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, "kcm-pki")}`,
        "--profiling=false",
      ],
      { log: logOf("kube-controller-manager") },
    );
    processes.push(kcm);
    const insecure = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      await waitUntil(
        "kube-controller-manager",
        kcm,
        async () => (await undiciFetch(`https://127.0.0.1:${kcmPort}/healthz`, { dispatcher: insecure })).ok,
      );
    } finally {
      await insecure.close();
    }
    const trusted = new Agent({ connect: { ca: caPem } });
    return {
      url,
      dir,
      caFile,
      caPem,
      keyPem,
      auditLog,
      adminToken,
      adminKubeconfig,
      dispatcher: trusted,
      startupMs: Math.round(performance.now() - started),
      writeKubeconfig,
      stop: async () => {
        await trusted.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls `ready` until it answers true; fails with the process's last lines if it exits first. */
async function waitUntil(
  name: string,
  process: SupervisedProcess,
  ready: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    const exit = process.exitInfo();
    if (exit !== undefined) {
      throw new Error(
        `${name} exited before it was ready (code ${exit.code}, signal ${exit.signal}):\n${process.tail().join("\n")}`,
      );
    }
    try {
      if (await ready()) return;
    } catch (error) {
      lastError = String((error as Error).cause ?? error);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${name} was not ready within ${timeoutMs / 1000} s (${lastError}):\n${process.tail().join("\n")}`,
      );
    }
    await sleep(50);
  }
}

/** Ports the OS hands out free at this moment (a race with other processes, which start-up would report). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function kubeconfigText(server: string, caPem: string, user: string, token: string): string {
  const cluster = { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") };
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "control-plane", cluster }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: user, context: { cluster: "control-plane", user } }],
      "current-context": user,
    },
    null,
    2,
  );
}
