// The targets this cluster registered into the shared (multi-cluster) target groups of a Service:
// one ConfigMap per Service, in its namespace, owned by it so Kubernetes deletes it with the Service,
// one data entry per target group. Holds no decisions: callers say what to read, write and drop.
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { Service, Target } from "../model/types.ts";
import { type KubeApis, statusCodeOf } from "./client.ts";

export const TARGET_RECORD_PREFIX = "aws-nlb-targets-";
const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
const MANAGED_BY = "aws-nlb-controller";
const WRITE_ATTEMPTS = 4;

/** One Service's record, per target group ARN. */
export interface ServiceTargetRecord {
  /** The recorded targets, or undefined when nothing was recorded for the group yet. */
  read(arn: string): Promise<Target[] | undefined>;
  /** Records `targets` in place of `base` (what was read), keeping a concurrent writer's changes. */
  write(arn: string, targets: Target[], base: Target[] | undefined): Promise<void>;
}

interface Stored {
  uid: string;
  resourceVersion: string;
  /** Entries by data key; empty for a record left by an earlier Service of the same name. */
  data: Record<string, string>;
}

/** A ConfigMap of the record's name that this controller did not make: never written or deleted. */
export class ForeignConfigMapError extends Error {
  override name = "ForeignConfigMapError";
}

export function targetRecordName(svc: Service): string {
  return `${TARGET_RECORD_PREFIX}${svc.metadata.name}`;
}

export class TargetRecords {
  readonly #apis: KubeApis;
  /** Per Service key: the stored record, or null when there is none. Read once, then kept by our writes. */
  readonly #cache = new Map<string, Stored | null>();
  readonly #running = new Map<string, Promise<unknown>>();

  constructor(apis: KubeApis) {
    this.#apis = apis;
  }

  of(svc: Service): ServiceTargetRecord {
    return {
      read: (arn) =>
        this.#serial(svc, async () => {
          const raw = (await this.#load(svc))?.data[entryKey(arn)];
          return raw === undefined ? undefined : decodeTargets(raw);
        }),
      write: (arn, targets, base) =>
        this.#serial(svc, () =>
          this.#update(svc, (data) => {
            // The difference to what was read goes onto the entry as stored now: after a 409 the
            // entry may hold another writer's targets, which must not be lost.
            const raw = data[entryKey(arn)];
            data[entryKey(arn)] = encodeTargets(
              mergeTargets(raw === undefined ? [] : decodeTargets(raw), base ?? [], targets),
            );
          }),
        ),
    };
  }

  /** Drops the entries of target groups other than these (groups replaced or gone). */
  retain(svc: Service, arns: Iterable<string>): Promise<void> {
    const keep = new Set([...arns].map(entryKey));
    return this.#serial(svc, async () => {
      const stored = await this.#load(svc);
      if (!stored || Object.keys(stored.data).every((k) => keep.has(k))) return;
      await this.#update(svc, (data) => {
        for (const k of Object.keys(data)) if (!keep.has(k)) delete data[k];
      });
    });
  }

  /** Deletes the Service's record, if there is one and it is ours. */
  remove(svc: Service): Promise<void> {
    return this.#serial(svc, async () => {
      let stored: Stored | null;
      try {
        stored = await this.#load(svc);
      } catch (err) {
        if (err instanceof ForeignConfigMapError) return;
        throw err;
      }
      if (stored) {
        try {
          await this.#apis.core.deleteNamespacedConfigMap({
            name: targetRecordName(svc),
            namespace: namespaceOf(svc),
            body: { preconditions: { uid: stored.uid } },
          });
        } catch (err) {
          const code = statusCodeOf(err);
          if (code === 409) this.#cache.delete(keyOf(svc)); // replaced meanwhile: look again next time
          if (code !== 404) throw err;
        }
      }
      this.#cache.set(keyOf(svc), null);
    });
  }

  /** Forgets what was read for a Service (it is gone from the cluster). */
  forget(key: string): void {
    this.#cache.delete(key);
  }

  async #load(svc: Service): Promise<Stored | null> {
    const key = keyOf(svc);
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    let cm: V1ConfigMap;
    try {
      cm = await this.#apis.core.readNamespacedConfigMap({
        name: targetRecordName(svc),
        namespace: namespaceOf(svc),
      });
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw err;
      this.#cache.set(key, null);
      return null;
    }
    const stored = storedOf(svc, cm);
    this.#cache.set(key, stored);
    return stored;
  }

  /** Read, change, write back; a concurrent change or deletion (409/404) is read again and retried. */
  async #update(svc: Service, change: (data: Record<string, string>) => void): Promise<void> {
    const key = keyOf(svc);
    for (let attempt = 1; ; attempt++) {
      const stored = await this.#load(svc);
      const data = { ...stored?.data };
      change(data);
      const body = configMapOf(svc, data, stored?.resourceVersion);
      try {
        const written = stored
          ? await this.#apis.core.replaceNamespacedConfigMap({
              name: targetRecordName(svc),
              namespace: namespaceOf(svc),
              body,
            })
          : await this.#apis.core.createNamespacedConfigMap({ namespace: namespaceOf(svc), body });
        this.#cache.set(key, storedOf(svc, written));
        return;
      } catch (err) {
        const code = statusCodeOf(err);
        this.#cache.delete(key);
        if ((code !== 409 && code !== 404) || attempt >= WRITE_ATTEMPTS) throw err;
      }
    }
  }

  #serial<T>(svc: Service, fn: () => Promise<T>): Promise<T> {
    const key = keyOf(svc);
    const run = (this.#running.get(key) ?? Promise.resolve()).catch(() => {}).then(fn);
    this.#running.set(key, run);
    const done = () => {
      if (this.#running.get(key) === run) this.#running.delete(key);
    };
    run.then(done, done);
    return run;
  }
}

function storedOf(svc: Service, cm: V1ConfigMap): Stored {
  const name = `${namespaceOf(svc)}/${targetRecordName(svc)}`;
  if (cm.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) {
    throw new ForeignConfigMapError(
      `ConfigMap ${name} exists and is not labelled ${MANAGED_BY_LABEL}=${MANAGED_BY}: it is not the controller's record of the targets it registered, so it is left alone; rename or delete it to use multi-cluster-target-group`,
    );
  }
  const ownedByThisService =
    svc.metadata.uid === undefined ||
    (cm.metadata.ownerReferences ?? []).some((r) => r.uid === svc.metadata.uid);
  return {
    uid: cm.metadata.uid ?? "",
    resourceVersion: cm.metadata.resourceVersion ?? "",
    data: ownedByThisService ? { ...cm.data } : {},
  };
}

function configMapOf(svc: Service, data: Record<string, string>, resourceVersion?: string): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: targetRecordName(svc),
      namespace: namespaceOf(svc),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(svc.metadata.uid
        ? {
            ownerReferences: [
              { apiVersion: "v1", kind: "Service", name: svc.metadata.name, uid: svc.metadata.uid },
            ],
          }
        : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    data,
  };
}

const namespaceOf = (svc: Service) => svc.metadata.namespace ?? "default";
const keyOf = (svc: Service) => `${namespaceOf(svc)}/${svc.metadata.name}`;

const TARGET_GROUP_RESOURCE = "targetgroup/";

/** A ConfigMap data key for a target group: `<name>.<id>` from its ARN (`...:targetgroup/<name>/<id>`). */
export function entryKey(arn: string): string {
  const at = arn.indexOf(TARGET_GROUP_RESOURCE);
  const resource = at >= 0 ? arn.slice(at + TARGET_GROUP_RESOURCE.length) : arn;
  const key = resource.replaceAll("/", ".").replace(/[^-._a-zA-Z0-9]/g, "_");
  return key === "" || key === "." || key === ".." ? `tg${key}` : key.slice(-253);
}

/** `id:port` entries, sorted, comma-separated. */
export function encodeTargets(targets: readonly Target[]): string {
  return [...new Set(targets.map((t) => `${t.id}:${t.port}`))].sort().join(",");
}

/** `current` less what `next` drops from `base`, plus all of `next`: another writer's entries stay. */
export function mergeTargets(
  current: readonly Target[],
  base: readonly Target[],
  next: readonly Target[],
): Target[] {
  const keyOfTarget = (t: Target) => `${t.id}:${t.port}`;
  const after = new Set(next.map(keyOfTarget));
  const dropped = new Set(base.map(keyOfTarget).filter((k) => !after.has(k)));
  const kept = current.filter((t) => !dropped.has(keyOfTarget(t)));
  return [...new Map([...kept, ...next].map((t) => [keyOfTarget(t), t])).values()];
}

/** The inverse of encodeTargets; an entry that does not parse (edited by hand) is skipped. */
export function decodeTargets(raw: string): Target[] {
  const out: Target[] = [];
  for (const entry of raw.split(",")) {
    const text = entry.trim();
    const colon = text.lastIndexOf(":");
    const id = text.slice(0, colon);
    const port = text.slice(colon + 1);
    if (colon <= 0 || !/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) continue;
    out.push({ id, port: Number(port) });
  }
  return out;
}
