// The state of the cluster and every write to it: create, update (main and /status), delete
// with finalizers, namespace termination and owner-based garbage collection. Objects here are in
// stored shape; the HTTP layer converts to and from the requested API version.
import { randomUUID } from "node:crypto";
import {
  alreadyExists,
  badRequest,
  conflict,
  FieldErrors,
  forbidden,
  internalError,
  notFound,
  staleObjectMessage,
} from "./errors.ts";
import { arrayAt, child, deepEqual, isObject } from "./json.ts";
import { validateObjectMeta } from "./kinds/common.ts";
import { protectedNamespaces } from "./kinds/namespaces.ts";
import { Allocations } from "./kinds/service-allocations.ts";
import { generateName } from "./names.ts";
import { canonicalOrder, isTerminating, type KubeObject, keyOf, objectKey, timestamp } from "./object.ts";
import { OwnerIndex } from "./owner-index.ts";
import type { ResourceDefinition, StrategyContext } from "./resource.ts";
import { Clock, type EventType, Storage } from "./storage.ts";

export interface WriteOptions {
  dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  object: KubeObject;
  /** True when the object is gone; false when it waits for finalizers. */
  removed: boolean;
}

/** Top-level fields that are not spec content: a change elsewhere bumps metadata.generation. */
const nonSpecFields = new Set(["kind", "apiVersion", "metadata", "status"]);

function specContentEqual(a: KubeObject, b: KubeObject): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !nonSpecFields.has(k)));
  for (const key of keys) if (!deepEqual(a[key], b[key])) return false;
  return true;
}

function withoutVersion(obj: KubeObject): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
}

function finalizersPending(def: ResourceDefinition, obj: KubeObject): boolean {
  if ((obj.metadata.finalizers ?? []).length > 0) return true;
  return (
    isNamespaces(def) && (arrayAt(isObject(obj.spec) ? obj.spec : undefined, "finalizers") ?? []).length > 0
  );
}

function isNamespaces(def: ResourceDefinition): boolean {
  return def.group === "" && def.resource === "namespaces";
}

export class Registry {
  readonly clock = new Clock();
  readonly allocations = new Allocations();
  readonly definitions: readonly ResourceDefinition[];
  private readonly storages = new Map<string, Storage>();
  /** The definition whose shape each storage holds (the one without a conversion). */
  private readonly storageDefs = new Map<string, ResourceDefinition>();
  private readonly owners = new OwnerIndex();
  private readonly ctx: StrategyContext;
  private readonly namespaceDef: ResourceDefinition;
  private readonly pending = new Set<NodeJS.Immediate>();

  constructor(definitions: readonly ResourceDefinition[], windowSize: number) {
    this.definitions = definitions;
    this.ctx = { allocations: this.allocations };
    for (const def of definitions) {
      if (!this.storages.has(def.storage))
        this.storages.set(def.storage, new Storage(def.storage, windowSize, 0));
      if (!def.conversion) this.storageDefs.set(def.storage, def);
    }
    const namespaceDef = definitions.find(isNamespaces);
    if (!namespaceDef) throw new Error("the namespaces resource is required");
    this.namespaceDef = namespaceDef;
  }

  storage(def: ResourceDefinition): Storage {
    const storage = this.storages.get(def.storage);
    if (!storage) throw new Error(`no storage ${def.storage}`);
    return storage;
  }

  /** Stops background work (namespace cleanup, garbage collection) scheduled but not yet run. */
  stop(): void {
    for (const handle of this.pending) clearImmediate(handle);
    this.pending.clear();
  }

  get(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject {
    const obj = this.storage(def).get(objectKey(def.namespaced ? namespace : undefined, name));
    if (!obj) throw notFound(def, name);
    return obj;
  }

  create(
    def: ResourceDefinition,
    namespace: string | undefined,
    input: KubeObject,
    opts: WriteOptions = {},
  ): KubeObject {
    const obj = this.normalised(def, input, namespace);
    const meta = obj.metadata;
    if (meta.resourceVersion)
      throw internalError("resourceVersion should not be set on objects to be created");
    const storage = this.storage(def);
    if (!meta.name && meta.generateName) {
      do meta.name = generateName(meta.generateName);
      while (storage.get(keyOf(obj)));
    }
    const name = meta.name ?? "";
    if (def.namespaced) this.admitIntoNamespace(def, namespace ?? "", name);

    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    meta.generation = 1;
    for (const field of ["deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"])
      delete meta[field];
    if (def.strategy.statusSubresource && !def.strategy.keepStatusOnCreate) delete obj.status;
    def.strategy.prepareCreate?.(obj, this.ctx);

    const errors = new FieldErrors();
    validateObjectMeta(obj, def.strategy.nameRule, errors);
    def.strategy.validate?.(obj, undefined, errors);
    errors.throwIfAny(def.kind, def.group, name);
    if (storage.get(keyOf(obj))) throw alreadyExists(def, name);
    def.strategy.allocate?.(obj, undefined, errors, this.ctx);
    errors.throwIfAny(def.kind, def.group, name);
    if (opts.dryRun) return canonicalOrder(obj);
    return this.commit(def, "ADDED", obj, undefined);
  }

  /** PUT of the object or of its /status. Creates when the kind allows create-on-update. */
  update(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    input: KubeObject,
    subresource: string | undefined,
    opts: WriteOptions = {},
  ): { object: KubeObject; created: boolean } {
    if (input.metadata.name !== undefined && input.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const obj = this.normalised(def, input, namespace);
    obj.metadata.name = name;
    const current = this.storage(def).get(keyOf(obj));
    if (!current) {
      if (subresource || !def.strategy.createOnUpdate || input.metadata.resourceVersion)
        throw notFound(def, name);
      return { object: this.create(def, namespace, obj, opts), created: true };
    }
    this.checkPreconditions(def, current, input.metadata.uid, input.metadata.resourceVersion);

    const errors = new FieldErrors();
    let next: KubeObject;
    if (subresource === "status") {
      next = structuredClone(current);
      if (obj.status === undefined) delete next.status;
      else next.status = obj.status;
      def.strategy.validateStatus?.(next, errors);
    } else {
      next = obj;
      const meta = next.metadata;
      const old = current.metadata;
      meta.uid = old.uid;
      meta.creationTimestamp = old.creationTimestamp;
      meta.generation = old.generation;
      meta.deletionTimestamp = old.deletionTimestamp;
      meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
      delete meta.managedFields;
      delete meta.selfLink;
      if (def.strategy.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = structuredClone(current.status);
      }
      if (isTerminating(current)) {
        const added = (meta.finalizers ?? []).filter((f) => !(old.finalizers ?? []).includes(f));
        if (added.length > 0) {
          errors.forbidden(
            "metadata.finalizers",
            `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(", ")}}`,
          );
        }
      }
      def.strategy.prepareUpdate?.(next, current, this.ctx);
      validateObjectMeta(next, def.strategy.nameRule, errors);
      def.strategy.validate?.(next, current, errors);
      errors.throwIfAny(def.kind, def.group, name);
      def.strategy.allocate?.(next, current, errors, this.ctx);
    }
    errors.throwIfAny(def.kind, def.group, name);

    if (!specContentEqual(next, current)) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (deepEqual(withoutVersion(next), withoutVersion(current))) return { object: current, created: false };
    if (opts.dryRun) return { object: canonicalOrder(next), created: false };
    if (isTerminating(next) && !finalizersPending(def, next)) {
      return { object: this.remove(def, current, next), created: false };
    }
    return { object: this.commit(def, "MODIFIED", next, current), created: false };
  }

  delete(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): DeleteResult {
    const current = this.get(def, namespace, name);
    this.checkPreconditions(def, current, opts.preconditions?.uid, opts.preconditions?.resourceVersion, true);
    if (isNamespaces(def) && protectedNamespaces.includes(name)) {
      throw forbidden(def, name, "this namespace may not be deleted");
    }
    if (isNamespaces(def) || finalizersPending(def, current)) {
      if (isTerminating(current)) return { object: current, removed: false };
      const next = structuredClone(current);
      next.metadata.deletionTimestamp = timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (isNamespaces(def)) child(next, "status").phase = "Terminating";
      if (opts.dryRun) return { object: canonicalOrder(next), removed: false };
      const stored = this.commit(def, "MODIFIED", next, current);
      if (isNamespaces(def)) this.later(() => this.finalizeNamespace(name));
      return { object: stored, removed: false };
    }
    if (opts.dryRun) return { object: current, removed: true };
    return { object: this.remove(def, current, current), removed: true };
  }

  /** Creates the namespaces and the `kubernetes` Service every cluster starts with. */
  seed(): void {
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      this.create(this.namespaceDef, undefined, { metadata: { name } });
    }
    const services = this.definitions.find((d) => d.group === "" && d.resource === "services");
    if (services) {
      this.create(services, "default", {
        metadata: { name: "kubernetes", labels: { component: "apiserver", provider: "kubernetes" } },
        spec: {
          type: "ClusterIP",
          clusterIP: "10.96.0.1",
          ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }],
        },
      });
    }
  }

  /** Sets kind/apiVersion to the stored shape's and namespace to the request's. */
  private normalised(def: ResourceDefinition, input: KubeObject, namespace: string | undefined): KubeObject {
    const storageDef = this.storageDefs.get(def.storage) ?? def;
    const obj: KubeObject = { ...input, metadata: { ...input.metadata } };
    obj.kind = storageDef.kind;
    obj.apiVersion = storageDef.group ? `${storageDef.group}/${storageDef.version}` : storageDef.version;
    if (def.namespaced) {
      if (input.metadata.namespace && input.metadata.namespace !== namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      obj.metadata.namespace = namespace;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private admitIntoNamespace(def: ResourceDefinition, namespace: string, name: string): void {
    const ns = this.storage(this.namespaceDef).get(namespace);
    if (!ns) throw notFound(this.namespaceDef, namespace);
    if (isTerminating(ns)) {
      throw forbidden(
        def,
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  private checkPreconditions(
    def: ResourceDefinition,
    current: KubeObject,
    uid: string | undefined,
    resourceVersion: string | undefined,
    explicit = false,
  ): void {
    const name = current.metadata.name ?? "";
    if (uid && uid !== current.metadata.uid) {
      throw conflict(
        def,
        name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
      const why = explicit
        ? `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`
        : staleObjectMessage;
      throw conflict(def, name, why);
    }
  }

  private commit(
    def: ResourceDefinition,
    type: EventType,
    next: KubeObject,
    previous: KubeObject | undefined,
  ): KubeObject {
    const rv = this.clock.next();
    const stored = canonicalOrder({ ...next, metadata: { ...next.metadata, resourceVersion: String(rv) } });
    const key = keyOf(stored);
    const storage = this.storage(def);
    storage.commit({ rv, type, object: stored, previous }, key);
    const kept = type === "DELETED" ? undefined : stored;
    this.owners.update(def.storage, key, previous, kept);
    def.strategy.committed?.(previous, kept, this.ctx);
    return stored;
  }

  /** Removes `current` for good; `last` is its final state (differs when finalizers just emptied). */
  private remove(def: ResourceDefinition, current: KubeObject, last: KubeObject): KubeObject {
    const stored = this.commit(def, "DELETED", last, current);
    const namespace = stored.metadata.namespace;
    if (def.namespaced && namespace) {
      const ns = this.storage(this.namespaceDef).get(namespace);
      if (ns && isTerminating(ns)) this.later(() => this.finalizeNamespace(namespace));
    }
    const uid = stored.metadata.uid;
    if (uid && this.owners.dependentsOf(uid).length > 0) this.later(() => this.collectDependents(uid));
    return stored;
  }

  private later(work: () => void): void {
    const handle = setImmediate(() => {
      this.pending.delete(handle);
      work();
    });
    this.pending.add(handle);
  }

  /** The namespace controller's job: delete the contents, then the namespace itself. */
  private finalizeNamespace(name: string): void {
    const current = this.storage(this.namespaceDef).get(name);
    if (!current || !isTerminating(current)) return;
    let remaining = 0;
    for (const [storageName, storage] of this.storages) {
      const def = this.storageDefs.get(storageName);
      if (!def?.namespaced) continue;
      for (const obj of storage.list(name)) {
        remaining++;
        if (!isTerminating(obj)) this.delete(def, name, obj.metadata.name ?? "");
      }
    }
    const live = this.storage(this.namespaceDef).get(name);
    if (remaining > 0 || !live) return;
    const emptied = structuredClone(live);
    child(emptied, "spec").finalizers = [];
    if ((live.metadata.finalizers ?? []).length > 0)
      this.commit(this.namespaceDef, "MODIFIED", emptied, live);
    else this.remove(this.namespaceDef, live, emptied);
  }

  /** The garbage collector's job: delete objects whose every owner is gone. */
  private collectDependents(uid: string): void {
    for (const ref of this.owners.dependentsOf(uid)) {
      const def = this.storageDefs.get(ref.storage);
      const obj = def ? this.storage(def).get(ref.key) : undefined;
      if (!def || !obj || isTerminating(obj) || !this.owners.orphaned(obj)) continue;
      this.delete(def, obj.metadata.namespace, obj.metadata.name ?? "");
    }
  }
}
