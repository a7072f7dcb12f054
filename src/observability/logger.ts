import pino, { type Logger } from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function makeLogger(level: LogLevel = "info"): Logger {
  return pino({ level, base: { component: "aws-nlb-controller" } });
}

export type { Logger };
