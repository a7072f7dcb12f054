import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The controller's Prometheus metrics, on their own registry so tests can run several controllers. */
export class Metrics {
  readonly registry = new Registry();
  readonly awsCalls = new Counter({
    name: "nlb_controller_aws_api_calls_total",
    help: "AWS API calls by service, operation and outcome (ok or the error name)",
    labelNames: ["service", "operation", "outcome"] as const,
    registers: [this.registry],
  });
  readonly awsBudgetWait = new Counter({
    name: "nlb_controller_aws_budget_wait_seconds_total",
    help: "Seconds AWS calls waited for the client-side API budget (--aws-api-budget), by service and operation",
    labelNames: ["service", "operation"] as const,
    registers: [this.registry],
  });
  readonly awsThrottled = new Counter({
    name: "nlb_controller_aws_throttled_total",
    help: "AWS call attempts AWS answered with a throttling error, by service and operation",
    labelNames: ["service", "operation"] as const,
    registers: [this.registry],
  });
  readonly reconciles = new Counter({
    name: "nlb_controller_reconcile_total",
    help: "Reconciles by loop and result",
    labelNames: ["loop", "result"] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: "nlb_controller_reconcile_duration_seconds",
    help: "Reconcile duration by loop",
    labelNames: ["loop"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly targetLatency = new Histogram({
    name: "nlb_controller_target_sync_latency_seconds",
    help: "Time from an endpoint or node change being seen to the targets being registered",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "nlb_controller_queue_depth",
    help: "Keys queued, running or waiting to retry, by loop",
    labelNames: ["loop"] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
