import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import {
  ANNOTATIONS,
  annotationTable,
  exampleKeyOf,
  parseAnnotations,
} from "../../../src/model/annotations.ts";
import {
  ANNOTATIONS_DOC_PATH,
  annotationExampleYaml,
  REGENERATE_ANNOTATIONS_DOC,
  renderAnnotationsDoc,
  sampleService,
} from "../../../src/model/annotations-doc.ts";
import { build } from "../../../src/model/build.ts";
import { isSelected } from "../../../src/model/selection.ts";
import type { BuildConfig, Node, Service } from "../../../src/model/types.ts";

const docUrl = new URL(`../../../${ANNOTATIONS_DOC_PATH}`, import.meta.url);
const rendered = renderAnnotationsDoc();

const config: BuildConfig = {
  clusterName: "prod",
  loadBalancerClass: "service.k8s.aws/nlb",
  defaultTargetType: "instance",
  defaultScheme: "internal",
};

const nodes: Node[] = [
  {
    metadata: { name: "node-a" },
    spec: { providerID: "aws:///us-west-2a/i-0123456789abcdef0" },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  },
];

/** The smallest Service this controller serves, carrying one annotation. */
function serviceWith(annotations: Record<string, string>, loadBalancerClass?: string): Service {
  return {
    metadata: { name: "web", namespace: "shop", annotations },
    spec: {
      type: "LoadBalancer",
      ...(loadBalancerClass === undefined ? {} : { loadBalancerClass }),
      ports: [
        { name: "http", port: 80, protocol: "TCP", targetPort: 8080, nodePort: 30080 },
        { name: "https", port: 443, protocol: "TCP", targetPort: 8443, nodePort: 30443 },
      ],
    },
  };
}

function committedDoc(): string | undefined {
  try {
    return readFileSync(docUrl, "utf8");
  } catch {
    return undefined;
  }
}

function firstDifference(a: string, b: string): string {
  const left = a.split("\n");
  const right = b.split("\n");
  const line = left.findIndex((text, i) => text !== right[i]);
  const at = line < 0 ? left.length : line;
  return `first difference at line ${at + 1}: committed ${JSON.stringify(left[at])}, table renders ${JSON.stringify(right[at])}`;
}

describe("docs/annotations.md", () => {
  it("is exactly what the annotation table renders", () => {
    const committed = committedDoc();
    const advice = `${ANNOTATIONS_DOC_PATH} is out of date with src/model/annotations.ts; run \`${REGENERATE_ANNOTATIONS_DOC}\``;
    assert.ok(
      committed !== undefined,
      `${ANNOTATIONS_DOC_PATH} is missing; run \`${REGENERATE_ANNOTATIONS_DOC}\``,
    );
    if (committed !== rendered) assert.fail(`${advice} (${firstDifference(committed, rendered)})`);
  });

  it("renders the same text every time", () => {
    assert.equal(renderAnnotationsDoc(), rendered);
  });

  it("has a section, a summary row and an example for every annotation of the table, in table order", () => {
    let previous = -1;
    for (const spec of ANNOTATIONS) {
      const heading = rendered.indexOf(`\n### \`${spec.key}\`\n`);
      assert.ok(heading > previous, `no section for ${spec.key} after the previous one`);
      previous = heading;
      assert.ok(rendered.includes(`| [\`${spec.key}\`](#`), `no summary row for ${spec.key}`);
      const next = rendered.indexOf("\n### ", heading + 1);
      const section = rendered.slice(heading, next < 0 ? undefined : next);
      assert.ok(section.includes(annotationExampleYaml(spec).trimEnd()), `no example for ${spec.key}`);
      assert.ok(section.includes("- **Default:** "), `no default for ${spec.key}`);
      assert.equal(section.includes("- **Deprecated:** "), spec.deprecated !== undefined, spec.key);
    }
  });

  it("shows each example in YAML that reads back as the exact annotation string", () => {
    for (const spec of ANNOTATIONS) {
      const parsed = parseYaml(annotationExampleYaml(spec)) as {
        metadata: { annotations: Record<string, unknown> };
      };
      assert.deepEqual(parsed.metadata.annotations, { [exampleKeyOf(spec)]: spec.example }, spec.key);
    }
  });

  it("names the condition, the event and the selection rule", () => {
    for (const text of [
      "`aws-nlb-controller/Reconciled=False`",
      "`InvalidAnnotation`",
      "`service.k8s.aws/nlb`",
      "`external`",
      "`nlb-ip`",
    ]) {
      assert.ok(rendered.includes(text), `the doc does not mention ${text}`);
    }
  });

  it("shows a sample Service that is selected and builds", () => {
    const service = sampleService();
    assert.ok(isSelected(service, config.loadBalancerClass));
    const result = build(service, [], nodes, config);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  });
});

/** Annotations an example needs beside it to build: ssl-ports needs ssl-cert, EIPs an internet-facing NLB. */
const COMPANIONS: Record<string, Record<string, string>> = {
  [annotationTable.sslPorts.key]: { [annotationTable.sslCert.key]: annotationTable.sslCert.example },
  [annotationTable.eipAllocations.key]: { [annotationTable.scheme.key]: "internet-facing" },
  [annotationTable.ipv6Addresses.key]: { [annotationTable.ipAddressType.key]: "dualstack" },
};

describe("the example of every annotation", () => {
  for (const spec of ANNOTATIONS) {
    it(`${spec.key}: ${JSON.stringify(spec.example)} parses and builds without problems`, () => {
      const companions = COMPANIONS[spec.key] ?? {};
      const service = serviceWith(
        { ...companions, [exampleKeyOf(spec)]: spec.example },
        config.loadBalancerClass,
      );
      const { values, problems } = parseAnnotations(service);
      assert.deepEqual(problems, []);
      assert.equal(
        Object.keys(values).length,
        1 + Object.keys(companions).length,
        "the example yields a value",
      );
      const result = build(service, [], nodes, config);
      assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    });
  }

  // Selection needs two annotations together: the type example selects only with a target type.
  it("the type and nlb-target-type examples together select a Service without a class", () => {
    const service = serviceWith({
      [annotationTable.type.key]: annotationTable.type.example,
      [annotationTable.targetType.key]: annotationTable.targetType.example,
    });
    assert.deepEqual(parseAnnotations(service).problems, []);
    assert.ok(isSelected(service, config.loadBalancerClass));
  });
});
