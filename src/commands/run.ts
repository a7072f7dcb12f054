import { type Config, resolveConfig } from "../config.ts";
import { Manager } from "../controller/manager.ts";
import { makeLogger } from "../observability/logger.ts";
import { Metrics } from "../observability/metrics.ts";
import { parseBindAddress, serveHealth, serveMetrics } from "../observability/server.ts";

export async function runCommand(opts: Record<string, string | boolean | undefined>): Promise<void> {
  const config: Config = resolveConfig(opts);
  const log = makeLogger(config.logLevel);
  const metrics = new Metrics({ processMetrics: true });
  const manager = new Manager(config, log, metrics);
  const metricsAddr = parseBindAddress(config.metricsBindAddress);
  const healthAddr = parseBindAddress(config.healthProbeBindAddress);
  const servers = [
    ...(metricsAddr ? [await serveMetrics(metricsAddr, metrics)] : []),
    ...(healthAddr ? [await serveHealth(healthAddr, () => manager.ready)] : []),
  ];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    await manager.stop();
    for (const s of servers) s.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  await manager.start();
}
