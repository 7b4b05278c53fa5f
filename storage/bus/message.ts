/** A bus message (a JSON string) as an object, or undefined for anything else: a bad message is dropped, never thrown. */
export function parseBusObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
