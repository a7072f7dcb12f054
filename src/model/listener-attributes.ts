// The attributes of each listener, from the listener-attributes.<PROTOCOL>-<port> annotations.
import { type AnnotationValues, annotationTable } from "./annotations.ts";
import { annotationProblem } from "./problems.ts";
import { sortedRecord } from "./sorted.ts";
import type { DesiredStack, InputProblem, ListenerProtocol, ListenerSpec } from "./types.ts";

/** The only listeners AWS lets change attributes: a TLS listener's idle timeout is fixed at 350 s. */
export const LISTENER_PROTOCOLS_WITH_ATTRIBUTES: ReadonlySet<string> = new Set(["TCP"]);

/**
 * A function from listener port to the listener's `attributes` field (left out when none are set);
 * problems for a key naming a port the Service lacks, the wrong protocol, or a listener without attributes.
 */
export function listenerAttributesByPort(
  values: AnnotationValues,
  listeners: readonly { port: number; protocol: ListenerProtocol }[],
  object: string,
  problems: InputProblem[],
): (port: number) => Pick<ListenerSpec, "attributes"> {
  const byPort = new Map<number, Record<string, string>>();
  const prefix = annotationTable.listenerAttributes.keyPrefix;
  const existing = listeners.map((l) => `${l.protocol}-${l.port}`).join(", ") || "none";
  for (const [member, attributes] of Object.entries(values.listenerAttributes ?? {})) {
    const [protocol, portText] = member.split("-") as [string, string];
    const port = Number(portText);
    const listener = listeners.find((l) => l.port === port);
    const text = Object.entries(attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const problem = (value: string, allowed: string) =>
      problems.push(annotationProblem(object, `${prefix}${member}`, { value, allowed }));
    if (listener === undefined) {
      problem(member, `a key naming one of the Service's listeners (<protocol>-<port>): ${existing}`);
    } else if (listener.protocol !== protocol) {
      problem(
        member,
        `the key ${prefix}${listener.protocol}-${port}: the listener on port ${port} is ${listener.protocol}`,
      );
    } else if (text !== "" && !LISTENER_PROTOCOLS_WITH_ATTRIBUTES.has(protocol)) {
      problem(
        text,
        protocol === "TLS"
          ? "no attributes: AWS keeps a TLS listener's idle timeout at 350 seconds"
          : `no attributes: AWS has none for ${protocol} listeners, only for TCP ones`,
      );
    } else if (text !== "") {
      byPort.set(port, sortedRecord(attributes));
    }
  }
  return (port) => {
    const attributes = byPort.get(port);
    return attributes ? { attributes } : {};
  };
}

/** Ports of the listeners whose attributes the stack sets: the only ones worth reading from AWS. */
export function listenerAttributePorts(stack: DesiredStack): Set<number> {
  return new Set(
    stack.listeners.filter((l) => Object.keys(l.attributes ?? {}).length > 0).map((l) => l.port),
  );
}
