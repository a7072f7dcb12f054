import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeClients } from "../aws/clients.ts";
import { FlagError, resolveConfig } from "../config.ts";
import { Manager } from "../controller/manager.ts";
import { loadKubeConfig, makeKubeApis } from "../kube/client.ts";
import { makeLogger } from "../observability/logger.ts";
import { startApiServer } from "./apiserver/index.ts";
import { applyDemoServices, createNodes, DEMO_NAMESPACE, DEMO_POD_IPS, setApiEndpoints } from "./demo.ts";
import { isMotoMissing, MOTO_NOT_FOUND_MESSAGE, type Moto, startMoto } from "./moto.ts";
import { createPodInterfaces, seedVpc } from "./seed-aws.ts";
import { renderSandbox } from "./table.ts";

interface SandboxOptions {
  listen: string;
  kubeconfigOut?: string;
  controller: boolean;
  demo: boolean;
  clusterName: string;
}

const REGION = "us-west-2";

/** `nlb-controller sandbox`: the whole product on one machine, until Ctrl-C. */
export async function sandboxCommand(opts: SandboxOptions): Promise<void> {
  const m = /^(.+):(\d{1,5})$/.exec(opts.listen);
  if (!m || Number(m[2]) > 65535)
    throw new FlagError(`--listen: "${opts.listen}" is not valid: host:port such as 127.0.0.1:0`);
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    say("\nstopping sandbox...");
    void stopAll().then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    const api = await startApiServer({ host: m[1], port: Number(m[2]) });
    cleanups.push(() => api.close());
    const dir = mkdtempSync(join(tmpdir(), "nlb-sandbox-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = opts.kubeconfigOut ?? join(dir, "kubeconfig");
    await api.writeKubeconfig(kubeconfig);
    say(`Kubernetes API: ${api.url}`);
    say(`kubeconfig:     ${kubeconfig}   (try: kubectl --kubeconfig ${kubeconfig} get svc -A)`);
    if (!opts.controller) {
      say("controller not started (--no-controller); Ctrl-C to stop");
      return;
    }

    let moto: Moto;
    try {
      moto = await startMoto();
    } catch (err) {
      if (isMotoMissing(err)) {
        process.stderr.write(`nlb-controller sandbox: ${MOTO_NOT_FOUND_MESSAGE}\n`);
        await stopAll();
        process.exit(2);
      }
      throw err;
    }
    cleanups.push(() => moto.stop());
    process.env.AWS_REGION ??= REGION;
    process.env.AWS_ACCESS_KEY_ID ??= "sandbox";
    process.env.AWS_SECRET_ACCESS_KEY ??= "sandbox";
    say(`AWS (moto):     ${moto.url}`);

    const aws = makeClients({ region: process.env.AWS_REGION, endpoint: moto.url });
    const vpc = await seedVpc(aws.ec2, {
      zones: [`${REGION}a`, `${REGION}b`, `${REGION}c`],
      clusterName: opts.clusterName,
      role: "internal-elb",
      instances: 3,
    });
    say(`VPC ${vpc.vpcId}: subnets ${vpc.subnetIds.join(", ")}; instances ${vpc.instanceIds.join(", ")}`);
    const kube = makeKubeApis(loadKubeConfig(kubeconfig));
    await createNodes(kube.core, vpc.instances);
    if (opts.demo) await createPodInterfaces(aws.ec2, vpc, DEMO_POD_IPS);

    const config = resolveConfig({
      clusterName: opts.clusterName,
      kubeconfig,
      awsRegion: process.env.AWS_REGION,
      awsEndpointUrl: moto.url,
      vpcId: vpc.vpcId,
      metricsBindAddress: "0",
      healthProbeBindAddress: "0",
      targetBatchWindow: "250ms",
      logLevel: process.env.LOG_LEVEL ?? "warn",
    });
    const manager = new Manager(config, makeLogger(config.logLevel));
    cleanups.push(() => manager.stop());
    await manager.start();
    say("controller running\n");
    if (!opts.demo) {
      say("empty cluster (--no-demo): apply Services with kubectl; Ctrl-C to stop");
      return;
    }

    await applyDemoServices(kube.core, kube.discovery);
    const show = async (title: string) => {
      await settle(manager);
      const services = [...manager.services.values()].filter((s) => s.metadata.namespace === DEMO_NAMESPACE);
      say(`=== ${title} (${new Date().toISOString()}) ===`);
      say(await renderSandbox(services, aws.elbv2, manager.targets));
    };
    await show("demo Services reconciled");
    say("changing the endpoints of demo/api: 10.0.16.22 stays, 10.0.0.21 goes, 10.0.32.23 comes");
    await setApiEndpoints(kube.discovery, ["10.0.16.22", "10.0.32.23"]);
    await show("after the endpoint change");

    // Re-print whenever something changes, until Ctrl-C.
    let timer: NodeJS.Timeout | undefined;
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void show("change seen").catch(() => {}), 1000);
    };
    for (const inf of [manager.services, manager.slices, manager.nodes]) {
      inf.on({ onAdd: changed, onUpdate: changed, onDelete: changed });
    }
    say("watching for changes; Ctrl-C to stop");
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Waits until the controller has nothing left to do (and the informers saw its own writes). */
async function settle(manager: Manager): Promise<void> {
  await new Promise((r) => setTimeout(r, 600));
  await manager.idle();
  await new Promise((r) => setTimeout(r, 200));
  await manager.idle();
}
