// Discovery documents: legacy (/api, /apis, APIResourceList per group version) and aggregated
// (apidiscovery.k8s.io/v2, which kubectl 1.30+ asks for first; 1.34 no longer serves v2beta1).
import type { JsonObject } from "./json.ts";
import { groupVersion, type ResourceDefinition } from "./resource.ts";

export const serverVersion = {
  major: "1",
  minor: "34",
  emulationMajor: "1",
  emulationMinor: "34",
  minCompatibilityMajor: "1",
  minCompatibilityMinor: "33",
  gitVersion: "v1.34.4+nlb-sandbox",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.24.11",
  compiler: "gc",
  platform: "linux/amd64",
};

const statusVerbs = ["get", "patch", "update"];

export class Discovery {
  private readonly defs: readonly ResourceDefinition[];

  constructor(defs: readonly ResourceDefinition[]) {
    this.defs = defs;
  }

  /** Non-core groups in order of first appearance, each with its versions. */
  private groups(): { name: string; versions: string[] }[] {
    const groups: { name: string; versions: string[] }[] = [];
    for (const def of this.defs) {
      if (def.group === "") continue;
      let group = groups.find((g) => g.name === def.group);
      if (!group) {
        group = { name: def.group, versions: [] };
        groups.push(group);
      }
      if (!group.versions.includes(def.version)) group.versions.push(def.version);
    }
    return groups;
  }

  servesGroupVersion(group: string, version: string): boolean {
    return this.defs.some((d) => d.group === group && d.version === version);
  }

  find(group: string, version: string, resource: string): ResourceDefinition | undefined {
    return this.defs.find((d) => d.group === group && d.version === version && d.resource === resource);
  }

  apiVersions(serverAddress: string): JsonObject {
    return {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
    };
  }

  private groupEntry(group: { name: string; versions: string[] }): JsonObject {
    const versions = group.versions.map((version) => ({ groupVersion: `${group.name}/${version}`, version }));
    return { name: group.name, versions, preferredVersion: versions[0] ?? null };
  }

  apiGroupList(): JsonObject {
    return { kind: "APIGroupList", apiVersion: "v1", groups: this.groups().map((g) => this.groupEntry(g)) };
  }

  apiGroup(name: string): JsonObject | undefined {
    const group = this.groups().find((g) => g.name === name);
    return group ? { kind: "APIGroup", apiVersion: "v1", ...this.groupEntry(group) } : undefined;
  }

  resourceList(group: string, version: string): JsonObject {
    const resources: JsonObject[] = [];
    for (const def of this.defs.filter((d) => d.group === group && d.version === version)) {
      const entry: JsonObject = {
        name: def.resource,
        singularName: def.singular,
        namespaced: def.namespaced,
        kind: def.kind,
        verbs: [...def.verbs],
      };
      if (def.shortNames.length > 0) entry.shortNames = [...def.shortNames];
      if (def.categories.length > 0) entry.categories = [...def.categories];
      resources.push(entry);
      for (const sub of def.subresources) {
        resources.push({
          name: `${def.resource}/${sub}`,
          singularName: "",
          namespaced: def.namespaced,
          kind: def.kind,
          verbs: statusVerbs,
        });
      }
    }
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: groupVersion({ group, version }),
      resources,
    };
  }

  private discoveryVersion(group: string, version: string): JsonObject {
    const resources = this.defs
      .filter((d) => d.group === group && d.version === version)
      .map((def) => {
        // Sic: kube-apiserver leaves group and version empty, whichever group the resource is in.
        const responseKind = { group: "", version: "", kind: def.kind };
        const entry: JsonObject = {
          resource: def.resource,
          responseKind,
          scope: def.namespaced ? "Namespaced" : "Cluster",
          singularResource: def.singular,
          verbs: [...def.verbs],
        };
        if (def.shortNames.length > 0) entry.shortNames = [...def.shortNames];
        if (def.categories.length > 0) entry.categories = [...def.categories];
        if (def.subresources.length > 0) {
          entry.subresources = def.subresources.map((subresource) => ({
            subresource,
            responseKind,
            verbs: statusVerbs,
          }));
        }
        return entry;
      });
    return { version, resources, freshness: "Current" };
  }

  /** Aggregated discovery for /api (core only) or /apis (every named group). */
  aggregated(core: boolean, apiVersion: string): JsonObject {
    const items = core
      ? [{ metadata: {}, versions: [this.discoveryVersion("", "v1")] }]
      : this.groups().map((g) => ({
          metadata: { name: g.name },
          versions: g.versions.map((v) => this.discoveryVersion(g.name, v)),
        }));
    return { kind: "APIGroupDiscoveryList", apiVersion, metadata: {}, items };
  }
}
