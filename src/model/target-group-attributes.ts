// The attributes of each target group: the default, target-group-attributes, its per-port
// override, then the proxy protocol annotations, which win.
import { type AnnotationValues, annotationTable } from "./annotations.ts";
import { annotationProblem } from "./problems.ts";
import { sortedRecord } from "./sorted.ts";
import type { InputProblem } from "./types.ts";

export const PROXY_PROTOCOL_ATTRIBUTE = "proxy_protocol_v2.enabled";

/** A function from listener port to that target group's attributes; problems for ports the Service lacks. */
export function targetGroupAttributesByPort(
  values: AnnotationValues,
  servicePorts: readonly number[],
  object: string,
  problems: InputProblem[],
): (port: number) => Record<string, string> {
  const known = new Set(servicePorts);
  const portsText = servicePorts.length === 0 ? "none" : servicePorts.join(", ");
  const perPort = values.targetGroupAttributesPerPort ?? {};
  for (const port of Object.keys(perPort).map(Number)) {
    if (known.has(port)) continue;
    problems.push(
      annotationProblem(object, `${annotationTable.targetGroupAttributesPerPort.keyPrefix}${port}`, {
        value: String(port),
        allowed: `a port of the Service at the end of the key; the Service's ports are ${portsText}`,
      }),
    );
  }
  const proxyPorts = new Set(values.proxyProtocolPerTargetGroup ?? []);
  for (const port of proxyPorts) {
    if (known.has(port)) continue;
    problems.push(
      annotationProblem(object, annotationTable.proxyProtocolPerTargetGroup.key, {
        value: String(port),
        allowed: `ports of the Service; its ports are ${portsText}`,
      }),
    );
  }
  return (port) =>
    sortedRecord({
      [PROXY_PROTOCOL_ATTRIBUTE]: "false",
      ...values.targetGroupAttributes,
      ...perPort[port],
      ...(values.proxyProtocol === "*" || proxyPorts.has(port) ? { [PROXY_PROTOCOL_ATTRIBUTE]: "true" } : {}),
    });
}
