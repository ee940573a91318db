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

/** How many live string objects have exactly the content `s` (copies, not distinct values). */
export function heapStringCopies(s: string): Promise<number> {
  return heapStringsWhere((x) => x === s);
}

/** How many live string objects have a content that `pred` accepts (copies, not distinct values). */
export async function heapStringsWhere(pred: (s: string) => boolean): Promise<number> {
  let text = '';
  for await (const chunk of getHeapSnapshot()) text += chunk as string;
  const snapshot = JSON.parse(text) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const stringTypes = new Set(['string', 'concatenated string', 'sliced string'].map((t) => types.indexOf(t)));
  const names = new Set<number>();
  snapshot.strings.forEach((x, i) => {
    if (pred(x)) names.add(i);
  });
  let n = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) if (names.has(snapshot.nodes[i + nameAt]) && stringTypes.has(snapshot.nodes[i + typeAt])) n++;
  return n;
}
