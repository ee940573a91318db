/**
 * What strings this process's heap holds, from a V8 heap snapshot (which collects garbage first):
 * for tests that a value kept from a parsed message does not keep the message text alive.
 */
import { getHeapSnapshot } from 'node:v8';

/** Whether any live string contains every one of `parts`. */
export async function heapHoldsString(...parts: string[]): Promise<boolean> {
  let text = '';
  for await (const chunk of getHeapSnapshot()) text += chunk as string;
  const snapshot = JSON.parse(text) as { strings: string[] };
  return snapshot.strings.some((s) => parts.every((p) => s.includes(p)));
}
