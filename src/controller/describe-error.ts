/** An error as one line for events and logs: its name (when it says something) and message. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name === "Error" ? "" : `${err.name}: `}${err.message}`;
  return String(err);
}
