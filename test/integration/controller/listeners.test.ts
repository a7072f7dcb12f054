import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, it } from "node:test";
import { ACMClient, ImportCertificateCommand } from "@aws-sdk/client-acm";
import {
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeTargetGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  nlbService,
  ownedByCluster,
  settle,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";
const A = "service.beta.kubernetes.io/aws-load-balancer-";

/** A self-signed certificate imported into ACM, as a user would import their own. */
async function importCertificate(name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "nlb-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "2",
        "-subj",
        `/CN=${name}`,
      ],
      { stdio: "ignore" },
    );
    const acm = new ACMClient({});
    const out = await acm.send(
      new ImportCertificateCommand({
        Certificate: readFileSync(join(dir, "cert.pem")),
        PrivateKey: readFileSync(join(dir, "key.pem")),
      }),
    );
    acm.destroy();
    if (!out.CertificateArn) throw new Error("ImportCertificate returned no ARN");
    return out.CertificateArn;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("TLS, UDP and TCP_UDP listeners end to end", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  const listenersOf = async () => {
    const lb = (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers[0];
    if (!lb) return [];
    return (await c.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn }))).Listeners ?? [];
  };

  it("terminates TLS with ACM certificates on the ssl-ports only, and follows certificate changes", async () => {
    const first = await importCertificate("first.example.com");
    const second = await importCertificate("second.example.com");
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", {
        annotations: {
          [`${A}ssl-cert`]: first,
          [`${A}ssl-ports`]: "443",
          [`${A}alpn-policy`]: "HTTP2Preferred",
          [`${A}backend-protocol`]: "ssl",
        },
        spec: {
          ports: [
            { name: "http", port: 80, targetPort: 8080, protocol: "TCP" },
            { name: "https", port: 443, targetPort: 8443, protocol: "TCP" },
          ],
        },
      }),
    });
    const m = await c.startController();
    const listeners = await waitFor("two listeners", async () => {
      const ls = await listenersOf();
      return ls.length === 2 ? ls : undefined;
    });
    const https = listeners.find((l) => l.Port === 443)!;
    const http = listeners.find((l) => l.Port === 80)!;
    assert.equal(https.Protocol, "TLS");
    assert.deepEqual(
      https.Certificates?.map((x) => x.CertificateArn),
      [first],
    );
    assert.equal(https.SslPolicy, "ELBSecurityPolicy-2016-08");
    assert.deepEqual(https.AlpnPolicy, ["HTTP2Preferred"]);
    assert.equal(http.Protocol, "TCP");
    const tls = (
      await c.elbv2.send(
        new DescribeTargetGroupsCommand({ TargetGroupArns: [https.DefaultActions![0]!.TargetGroupArn!] }),
      )
    ).TargetGroups![0]!;
    assert.equal(tls.Protocol, "TLS", "backend-protocol ssl makes the target group TLS");
    await settle(m);

    await annotate(c, "web", { [`${A}ssl-cert`]: `${first},${second}` });
    await waitFor("second certificate added", async () => {
      const certs = await c.elbv2.send(
        new DescribeListenerCertificatesCommand({ ListenerArn: https.ListenerArn }),
      );
      return (certs.Certificates ?? []).some((x) => x.CertificateArn === second);
    });
    await annotate(c, "web", { [`${A}ssl-cert`]: first });
    await waitFor("second certificate removed", async () => {
      const certs = await c.elbv2.send(
        new DescribeListenerCertificatesCommand({ ListenerArn: https.ListenerArn }),
      );
      return !(certs.Certificates ?? []).some((x) => x.CertificateArn === second);
    });
    // Switching the default certificate (ModifyListener) is pinned by plan() unit tests: moto's
    // ModifyListener ignores certificates on TLS listeners, so it cannot be observed here.
  });

  it("serves UDP, and a TCP and a UDP port with the same number as one TCP_UDP listener", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("dns", {
        spec: {
          ports: [
            { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" },
            { name: "dns-udp", port: 53, targetPort: 53, protocol: "UDP" },
            { name: "syslog", port: 514, targetPort: 514, protocol: "UDP" },
          ],
        },
      }),
    });
    await c.startController();
    const listeners = await waitFor("two listeners", async () => {
      const ls = await listenersOf();
      return ls.length === 2 ? ls : undefined;
    });
    assert.deepEqual(listeners.map((l) => `${l.Protocol}:${l.Port}`).sort(), ["TCP_UDP:53", "UDP:514"]);
    const groups = (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups;
    assert.deepEqual(groups.map((g) => g.protocol).sort(), ["TCP_UDP", "UDP"]);
  });
});
