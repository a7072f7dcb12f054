#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { FlagError } from "./config.ts";

/** Flag errors are one line and exit code 2, before any server is contacted. */
function usageError(message: string): never {
  process.stderr.write(`nlb-controller: ${message.replace(/^error: /, "")}\n`);
  process.exit(2);
}

const program = new Command("nlb-controller")
  .description("Gives Kubernetes Services AWS Network Load Balancers")
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => {} })
  .showHelpAfterError(false);

const runFlags = (cmd: Command) =>
  cmd
    .option("--cluster-name <name>", "name of this cluster, used in ownership tags (env CLUSTER_NAME)")
    .option("--kubeconfig <file>", "kubeconfig file (default $KUBECONFIG, else in-cluster)")
    .option("--aws-region <region>", "AWS region (default $AWS_REGION)")
    .option("--aws-endpoint-url <url>", "AWS endpoint (default $AWS_ENDPOINT_URL)")
    .option("--vpc-id <id>", "VPC of the cluster (default: discovered from a node's instance)")
    .option(
      "--load-balancer-class <class>",
      "loadBalancerClass this controller serves",
      "service.k8s.aws/nlb",
    )
    .option("--default-target-type <type>", "instance or ip", "instance")
    .option("--default-scheme <scheme>", "internal or internet-facing", "internal")
    .option("--default-tags <k=v,...>", "tags added to every AWS resource")
    .option("--concurrency <n>", "Services reconciled at once", "3")
    .option("--target-batch-window <duration>", "how long target changes are coalesced", "250ms")
    .option(
      "--aws-api-budget <fraction>",
      "share of AWS's per-account API rates this controller may use (other clusters share them)",
      "0.5",
    )
    .option(
      "--aws-api-throttle <rules>",
      "explicit rates, LBC's form: service:operationRegex=rate:burst,... (service elbv2 or ec2)",
    )
    .option(
      "--sync-period <duration>",
      "how often every stack is re-read from AWS in full to repair drift",
      "10h",
    )
    .addOption(new Option("--log-level <level>", "trace, debug, info, warn, error").default("info"))
    .option("--metrics-bind-address <addr>", "Prometheus metrics address, 0 to disable", ":8080")
    .option("--health-probe-bind-address <addr>", "/healthz and /readyz address, 0 to disable", ":8081")
    .option("--leader-elect", "elect one active replica through a Lease", false)
    .option(
      "--leader-election-namespace <ns>",
      "namespace of the Lease (default $POD_NAMESPACE or kube-system)",
    )
    .option("--leader-election-id <name>", "name of the Lease", "aws-nlb-controller-leader");

runFlags(program.command("run").description("run the controller")).action(async (opts) =>
  (await import("./commands/run.ts")).runCommand(opts),
);

program
  .command("plan")
  .description("print the NLB stacks manifests would get, without contacting any server")
  .requiredOption(
    "-f, --filename <file>",
    "manifest file (YAML or JSON, several documents); repeatable",
    collect,
    [],
  )
  .option("--cluster-name <name>", "cluster name used in names and tags", process.env.CLUSTER_NAME)
  .addOption(new Option("-o, --output <format>", "json or table").choices(["json", "table"]).default("table"))
  .option("--load-balancer-class <class>", "loadBalancerClass the controller serves", "service.k8s.aws/nlb")
  .option("--default-target-type <type>", "instance or ip", "instance")
  .option("--default-scheme <scheme>", "internal or internet-facing", "internal")
  .option("--diff <namespace/name>", "show the changes the controller would make to the live stack")
  .option("--kubeconfig <file>", "with --diff: the cluster to read the Service from")
  .option("--aws-region <region>", "with --diff: AWS region")
  .option("--aws-endpoint-url <url>", "with --diff: AWS endpoint")
  .action(async (opts) => (await import("./commands/plan.ts")).planCommand(opts));

program
  .command("sandbox")
  .description("embedded Kubernetes API + moto + the controller + two demo Services")
  .option("--listen <host:port>", "address of the embedded Kubernetes API", "127.0.0.1:0")
  .option("--kubeconfig-out <file>", "write a kubeconfig for the embedded API here")
  .option("--no-controller", "do not run the controller (and do not start moto)")
  .option("--no-demo", "start with an empty cluster")
  .option("--cluster-name <name>", "cluster name", "sandbox")
  .action(async (opts) => (await import("./sandbox/command.ts")).sandboxCommand(opts));

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0)
      process.exit(0);
    usageError(err.message);
  }
  if (err instanceof FlagError) usageError(err.message);
  process.stderr.write(`nlb-controller: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
