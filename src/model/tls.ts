// Which listeners terminate TLS (ssl-cert, ssl-ports) and with what settings.
import type { AnnotationValues } from "./annotations.ts";
import { annotationTable } from "./annotations.ts";
import { annotationProblem } from "./problems.ts";
import type { InputProblem, ListenerProtocol, ServicePort } from "./types.ts";

export const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08";

/** The listener-level view of the Service's ports that TLS needs: one entry per listener. */
export interface ListenerPorts {
  port: number;
  protocol: ListenerProtocol;
  members: { port: ServicePort; protocol: "TCP" | "UDP" }[];
}

export interface TlsSettings {
  /** Listener ports that are TLS. */
  ports: ReadonlySet<number>;
  certificates: string[];
  sslPolicy: string;
  alpnPolicy?: string;
  /** backend-protocol ssl: the target groups behind TLS listeners are TLS too. */
  tlsTargets: boolean;
}

/** The TLS listeners, or undefined without ssl-cert; problems for ssl-ports that cannot be TLS. */
export function tlsSettings(
  values: AnnotationValues,
  listeners: readonly ListenerPorts[],
  object: string,
  problems: InputProblem[],
): TlsSettings | undefined {
  const sslPortsKey = annotationTable.sslPorts.key;
  const certificates = values.sslCert;
  if (certificates === undefined) {
    if (values.sslPorts !== undefined) {
      problems.push(
        annotationProblem(object, sslPortsKey, {
          value: values.sslPorts.join(","),
          allowed: `ssl-ports only together with ${annotationTable.sslCert.key} (the certificates of the TLS listeners)`,
        }),
      );
    }
    return undefined;
  }

  const requested = values.sslPorts ?? ["*"];
  const ports = new Set<number>();
  if (requested.includes("*")) {
    for (const listener of listeners) if (listener.protocol === "TCP") ports.add(listener.port);
  } else {
    for (const entry of requested) {
      const listener = listeners.find((candidate) =>
        typeof entry === "number"
          ? candidate.port === entry
          : candidate.members.some((member) => member.port.name === entry),
      );
      const refusal =
        listener === undefined
          ? "a port of the Service, by number or by name"
          : listener.protocol === "UDP"
            ? `a TCP port: port ${listener.port} is UDP, and only TCP listeners can be TLS`
            : listener.protocol === "TCP_UDP"
              ? `a TCP-only port: port ${listener.port} is both TCP and UDP (one TCP_UDP listener), which cannot be TLS`
              : undefined;
      if (refusal !== undefined) {
        problems.push(
          annotationProblem(object, sslPortsKey, {
            value: String(entry),
            allowed: `${refusal}; the Service's TCP ports are ${tcpPortsText(listeners)}`,
          }),
        );
        continue;
      }
      ports.add(listener!.port);
    }
  }
  return {
    ports,
    certificates,
    sslPolicy: values.sslNegotiationPolicy ?? DEFAULT_SSL_POLICY,
    ...(values.alpnPolicy === undefined ? {} : { alpnPolicy: values.alpnPolicy }),
    tlsTargets: values.backendProtocol === "ssl",
  };
}

function tcpPortsText(listeners: readonly ListenerPorts[]): string {
  const tcp = listeners
    .filter((listener) => listener.protocol === "TCP")
    .map((listener) => {
      const name = listener.members[0]?.port.name;
      return name ? `${listener.port} (${name})` : String(listener.port);
    });
  return tcp.length === 0 ? "none" : tcp.join(", ");
}
