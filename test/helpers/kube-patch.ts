/** The three patch formats the Kubernetes API accepts, for the stand-in (test/helpers/kube-api.ts). */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export class PatchError extends Error {}

/** RFC 6902 JSON patch: add, remove, replace, move, copy, test; paths are RFC 6901 pointers. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = structuredClone(target) as Json;
  for (const op of operations as { op?: string; path?: string; from?: string; value?: Json }[]) {
    if (typeof op?.path !== 'string') throw new PatchError(`operation ${JSON.stringify(op)} has no path`);
    switch (op.op) {
      case 'add':
        doc = put(doc, op.path, structuredClone(op.value as Json), 'add');
        break;
      case 'replace':
        get(doc, op.path);
        doc = put(doc, op.path, structuredClone(op.value as Json), 'replace');
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'move': {
        const value = get(doc, op.from ?? '');
        doc = put(remove(doc, op.from ?? ''), op.path, value, 'add');
        break;
      }
      case 'copy':
        doc = put(doc, op.path, structuredClone(get(doc, op.from ?? '')), 'add');
        break;
      case 'test':
        if (JSON.stringify(get(doc, op.path)) !== JSON.stringify(op.value)) throw new PatchError(`test operation failed at ${op.path}`);
        break;
      default:
        throw new PatchError(`unknown JSON patch operation ${JSON.stringify(op.op)}`);
    }
  }
  return doc;
}

/**
 * Strategic merge patch, as far as the stand-in needs it: a merge patch in which lists of objects that have a
 * `name` (containers, env, volumes, ports) or `type` (conditions) merge by that key instead of being replaced,
 * and `$patch: delete` in such an item removes it. Other directives (`$retainKeys`, `$setElementOrder`) are refused.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object') return structuredClone(patch);
  if (Array.isArray(patch)) {
    const key = mergeKey(patch);
    if (!key || !Array.isArray(target)) return structuredClone(patch);
    const result = [...(target as Record<string, unknown>[])];
    for (const item of patch as Record<string, unknown>[]) {
      const at = result.findIndex((t) => t?.[key] === item[key]);
      if (item.$patch === 'delete') {
        if (at >= 0) result.splice(at, 1);
      } else if (at >= 0) result[at] = strategicMergePatch(result[at], item) as Record<string, unknown>;
      else result.push(structuredClone(item));
    }
    return result;
  }
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new PatchError(`the stand-in does not implement the strategic merge directive ${key}`);
    if (value === null) delete result[key];
    else result[key] = strategicMergePatch(result[key], value);
  }
  return result;
}

function mergeKey(items: unknown[]): string | undefined {
  if (items.length === 0 || !items.every((i) => i !== null && typeof i === 'object' && !Array.isArray(i))) return undefined;
  for (const key of ['name', 'type']) if (items.every((i) => typeof (i as Record<string, unknown>)[key] === 'string')) return key;
  return undefined;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`${JSON.stringify(pointer)} is not a JSON pointer`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function get(doc: Json, pointer: string): Json {
  let node: Json = doc;
  for (const token of tokens(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)] as Json;
    else if (node !== null && typeof node === 'object' && token in node) node = node[token] as Json;
    else throw new PatchError(`path ${pointer} does not exist`);
    if (node === undefined) throw new PatchError(`path ${pointer} does not exist`);
  }
  return node;
}

function put(doc: Json, pointer: string, value: Json, mode: 'add' | 'replace'): Json {
  const parts = tokens(pointer);
  if (parts.length === 0) return value;
  const last = parts.pop() as string;
  const parent = get(doc, parts.length ? `/${parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}` : '');
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new PatchError(`index ${last} is out of range at ${pointer}`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (parent !== null && typeof parent === 'object') parent[last] = value;
  else throw new PatchError(`cannot add ${pointer}: its parent is not an object or array`);
  return doc;
}

function remove(doc: Json, pointer: string): Json {
  const parts = tokens(pointer);
  const last = parts.pop();
  if (last === undefined) throw new PatchError('cannot remove the whole document');
  const parent = get(doc, parts.length ? `/${parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}` : '');
  if (Array.isArray(parent)) {
    const index = Number(last);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) throw new PatchError(`index ${last} is out of range at ${pointer}`);
    parent.splice(index, 1);
  } else if (parent !== null && typeof parent === 'object' && last in parent) delete parent[last];
  else throw new PatchError(`path ${pointer} does not exist`);
  return doc;
}
