// Listener attributes: set only where they differ from what the listener has.
import { LISTENER_PROTOCOLS_WITH_ATTRIBUTES } from "../model/listener-attributes.ts";
import type { ActualListener, ListenerSpec } from "../model/types.ts";
import type { Change } from "./changes.ts";
import { attributeChanges } from "./compare.ts";

/** What a new TCP listener has: setting these on create would be a wasted call. */
export const LISTENER_ATTRIBUTE_DEFAULTS: Record<string, string> = {
  "tcp.idle_timeout.seconds": "350",
};

/**
 * The change that brings the attributes a Service sets in line, if any. A listener the plan creates,
 * or one that becomes TCP now, starts from the defaults. An attribute AWS does not report is at its
 * default. A listener whose attributes were not read is left alone. Attributes the Service does not
 * set are never touched, as for NLB and target group attributes.
 */
export function listenerAttributeChange(
  spec: ListenerSpec,
  current: ActualListener | undefined,
): Change | undefined {
  if (!LISTENER_PROTOCOLS_WITH_ATTRIBUTES.has(spec.protocol)) return undefined;
  // Only what the Service sets is managed: a value set by other means is left as it is.
  const want = spec.attributes ?? {};
  if (Object.keys(want).length === 0) return undefined;
  let have: Record<string, string>;
  if (current === undefined || current.protocol !== spec.protocol) have = LISTENER_ATTRIBUTE_DEFAULTS;
  else if (current.attributes !== undefined) have = { ...LISTENER_ATTRIBUTE_DEFAULTS, ...current.attributes };
  else return undefined;
  const attributes = attributeChanges(want, have);
  if (!attributes) return undefined;
  const listener = current ? { arn: current.arn } : { port: spec.port };
  return { kind: "modifyListenerAttributes", listener, port: spec.port, attributes };
}
