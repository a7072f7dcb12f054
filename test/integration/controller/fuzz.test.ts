// Generated Services through the running controller: for any invalid one no AWS resource is made and
// it says why; the controller never crashes; valid neighbours converge.
// Longer run: FC_NUM_RUNS=3000 node --test test/integration/controller/fuzz.test.ts (scales the count).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import type { V1Service } from "@kubernetes/client-node";
import fc from "fast-check";
import { build } from "../../../src/model/build.ts";
import type { Node, Service } from "../../../src/model/types.ts";
import { awsTestEnv } from "../../support/aws.ts";
import {
  nlbService,
  ownedByCluster,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";
import { wildServiceArbitrary } from "../../unit/fuzz/arbitraries.ts";

awsTestEnv();
const NS = "default";
const COUNT = Math.max(6, Math.round((Number(process.env.FC_NUM_RUNS) || 300) / 25));

describe("generated Services through the running controller", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  it(`${COUNT} generated Services: invalid ones touch nothing and say why, valid neighbours converge`, async () => {
    const generated = fc.sample(wildServiceArbitrary(), { seed: 4242, numRuns: COUNT });
    const created: string[] = [];
    for (const [i, g] of generated.entries()) {
      const name = `fz-${i}`;
      const body: V1Service = {
        metadata: { name, annotations: g.metadata.annotations ?? {} },
        spec: {
          type: "LoadBalancer",
          loadBalancerClass: "service.k8s.aws/nlb",
          ports: [{ name: "http", port: 80 + i, protocol: "TCP" }],
        },
      };
      try {
        await c.kube.core.createNamespacedService({ namespace: NS, body });
        created.push(name);
      } catch {
        // The API refused it (as kube-apiserver would): nothing for the controller to see.
      }
    }
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("neighbour-a") });
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("neighbour-b") });
    await c.startController();
    for (const name of ["neighbour-a", "neighbour-b"]) {
      await waitFor(
        `${name} converges`,
        async () => {
          const svc = await c.kube.core.readNamespacedService({ name, namespace: NS });
          return svc.status?.loadBalancer?.ingress?.[0]?.hostname;
        },
        60_000,
      );
    }
    // Not settle(m): a valid Service naming a subnet AWS does not have retries with backoff for as long
    // as it exists, so the queues need not drain. Wait until each one has converged or said why not.
    await waitFor(
      "every generated Service to converge or say why not",
      async () => {
        const warned = new Set(
          (await c.kube.core.listNamespacedEvent({ namespace: NS })).items
            .filter((e) => e.type === "Warning")
            .map((e) => e.involvedObject.name),
        );
        for (const name of created) {
          const svc = await c.kube.core.readNamespacedService({ name, namespace: NS });
          if (!svc.status?.loadBalancer?.ingress?.[0]?.hostname && !warned.has(name)) return false;
        }
        return true;
      },
      60_000,
    );

    const owned = await ownedByCluster(c.elbv2, c.clusterName);
    const stacks = new Set(
      [...owned.loadBalancers, ...owned.targetGroups].map((r) => r.tags["service.k8s.aws/stack"]),
    );
    const nodes = (await c.kube.core.listNode()).items as unknown as Node[];
    const events = (await c.kube.core.listNamespacedEvent({ namespace: NS })).items;
    let invalid = 0;
    for (const name of created) {
      const svc = (await c.kube.core.readNamespacedService({ name, namespace: NS })) as unknown as Service;
      const result = build(svc, [], nodes, {
        clusterName: c.clusterName,
        loadBalancerClass: "service.k8s.aws/nlb",
        defaultTargetType: "instance",
        defaultScheme: "internal",
      });
      const said = events.filter((e) => e.involvedObject.name === name && e.type === "Warning");
      if (!result.ok) {
        invalid++;
        assert.ok(!stacks.has(`${NS}/${name}`), `nothing in AWS for invalid ${name}`);
        assert.ok(
          said.some((e) => e.reason === "InvalidAnnotation" || e.reason === "InvalidSpec"),
          `${name} says why`,
        );
        const condition = svc.status?.conditions?.find((x) => x.type === "aws-nlb-controller/Reconciled");
        assert.equal(condition?.status, "False", `${name} has Reconciled=False`);
      } else {
        const host = svc.status?.loadBalancer?.ingress?.[0]?.hostname;
        assert.ok(host || said.length > 0, `valid ${name} either converged or said why not`);
      }
    }
    assert.ok(invalid > 0, "the sample holds invalid Services, so the checks above ran");
  });
});
