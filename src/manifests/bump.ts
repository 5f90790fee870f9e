import { isDeepStrictEqual } from 'node:util';
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { UsageError } from '../errors.ts';
import { unifiedDiff } from './diff.ts';
import { appendToSeq, applyEdits, EditRefusal, fillEmptyValue, findPair, indentUnit, insertIntoMap, isNullScalar, replaceScalar, type Edit, type NewEntry, type ScalarValue } from './edit.ts';
import { annotationKeyProblem, annotationValueProblem, parseImageReference, storageUriProblem, type ImageReference } from './references.ts';
import { parseManifest } from './safe-yaml.ts';

/** The older per-framework predictor fields, each with its own `storageUri` (`spec.predictor.sklearn.storageUri`). */
export const FRAMEWORKS = ['sklearn', 'xgboost', 'lightgbm', 'tensorflow', 'pytorch', 'onnx', 'triton', 'pmml', 'paddle', 'huggingface'] as const;

export interface ImageUpdate {
  /** Container name (InferenceService) or `images:` entry name (kustomization). */
  name: string;
  reference: ImageReference;
}

export interface BumpRequest {
  storageUri?: string;
  images?: ImageUpdate[];
  canaryTrafficPercent?: number;
  /** Annotations to set on the InferenceService, in order (provenance: `mlops-actions.io/*`). */
  annotations?: [string, string][];
  /**
   * Provenance annotations (`mlops-actions.io/*`): set on an InferenceService like `annotations`,
   * skipped for a kustomization (which has no place for them) instead of refused.
   */
  provenance?: [string, string][];
  /** `Kind/name` of the document to edit in a multi-document file. */
  select?: string;
  /** Add target fields that are absent instead of refusing. */
  createMissing?: boolean;
}

export interface FieldChange {
  /** Where, readable: `spec.predictor.model.storageUri`, `spec.predictor.containers[name=kserve-container].image`. */
  path: string;
  from?: ScalarValue;
  to: ScalarValue;
}

export interface BumpResult {
  changed: boolean;
  /** The whole new file text (equal to the input when nothing changed). */
  text: string;
  /** Unified diff of the change, empty when nothing changed. */
  diff: string;
  changes: FieldChange[];
  /** The document that was edited: `InferenceService/churn`. */
  target: string;
  /** The edited document as data, parsed back from the new text. */
  object: unknown;
}

interface Context {
  file: string;
  text: string;
  eol: string;
  unit: number;
  createMissing: boolean;
  edits: Edit[];
  changes: FieldChange[];
  /** What the edited document must parse to; checked after the splice. */
  expected: unknown;
}

/**
 * Applies a bump to a manifest's text. Changes only the target scalars (and adds fields when asked);
 * every refusal is a UsageError naming the file, the path and the value, and nothing is written.
 */
export function bumpText(text: string, file: string, request: BumpRequest): BumpResult {
  const parsed = parseManifest(text, file);
  const index = selectDocument(parsed.values, file, request.select);
  const document = parsed.documents[index] as Document.Parsed;
  const value = parsed.values[index] as Record<string, unknown>;
  const ctx: Context = {
    file,
    text,
    eol: parsed.eol,
    unit: indentUnit(text, document.contents),
    createMissing: request.createMissing ?? false,
    edits: [],
    changes: [],
    expected: structuredClone(value),
  };
  const root = document.contents;
  if (!isMap(root)) throw refuse(ctx, '', 'is not a mapping');
  const kind = describeDocument(value);
  try {
    if (isKustomization(value)) bumpKustomization(ctx, root, request);
    else bumpInferenceService(ctx, root, request);
  } catch (error) {
    if (error instanceof EditRefusal) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }

  const newText = applyEdits(text, ctx.edits);
  let check: ReturnType<typeof parseManifest> | undefined;
  try {
    check = parseManifest(newText, file);
  } catch {
    check = undefined;
  }
  if (!check || !isDeepStrictEqual(check.values[index], ctx.expected) || check.values.length !== parsed.values.length) {
    // A bug here must never reach the user's repository.
    throw new Error(`${file}: the edited text does not parse to the expected object; nothing was written (please report this)`);
  }
  return {
    changed: newText !== text,
    text: newText,
    diff: unifiedDiff(file, text, ctx.edits),
    changes: ctx.changes,
    target: kind,
    object: check.values[index],
  };
}

function describeDocument(value: Record<string, unknown>): string {
  const kind = typeof value.kind === 'string' ? value.kind : 'Kustomization';
  const name = (value.metadata as Record<string, unknown> | undefined)?.name;
  return typeof name === 'string' ? `${kind}/${name}` : kind;
}

function isKustomization(value: Record<string, unknown>): boolean {
  if (value.kind === 'Kustomization') return true;
  return value.kind === undefined && ('images' in value || 'resources' in value);
}

function isInferenceService(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).kind === 'InferenceService';
}

function selectDocument(values: unknown[], file: string, select: string | undefined): number {
  const objects = values.map((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined));
  if (select !== undefined) {
    const slash = select.indexOf('/');
    const kind = select.slice(0, slash).toLowerCase();
    const name = select.slice(slash + 1);
    const matches = objects.flatMap((o, i) => {
      if (!o) return [];
      const k = (typeof o.kind === 'string' ? o.kind : isKustomization(o) ? 'Kustomization' : '').toLowerCase();
      const n = (o.metadata as Record<string, unknown> | undefined)?.name;
      return k === kind && (n === name || (name === '' && n === undefined)) ? [i] : [];
    });
    if (matches.length === 0) {
      const present = objects.filter((o) => o).map((o) => describeDocument(o as Record<string, unknown>));
      throw new UsageError(`${file}: select ${JSON.stringify(select)} matches no document (found ${present.join(', ') || 'none'}): give Kind/name of one of them`);
    }
    if (matches.length > 1) throw new UsageError(`${file}: select ${JSON.stringify(select)} matches ${matches.length} documents: names must be unique`);
    return matches[0] as number;
  }
  const services = objects.flatMap((o, i) => (isInferenceService(o) ? [i] : []));
  if (services.length > 1) {
    const names = services.map((i) => describeDocument(objects[i] as Record<string, unknown>));
    throw new UsageError(`${file}: holds ${services.length} InferenceServices (${names.join(', ')}): choose one with select, e.g. ${JSON.stringify(names[0])}`);
  }
  if (services.length === 1) return services[0] as number;
  const kustomizations = objects.flatMap((o, i) => (o && isKustomization(o) ? [i] : []));
  if (kustomizations.length === 1) return kustomizations[0] as number;
  throw new UsageError(`${file}: holds no InferenceService (serving.kserve.io/v1beta1) and no kustomization: point bump at the manifest that defines the model`);
}

function refuse(ctx: Context, path: string, problem: string): UsageError {
  return new UsageError(`${ctx.file}: ${path ? `${path} ` : ''}${problem}`);
}

/** The map at `key` of `map`; undefined when absent; refuses aliases and non-maps. */
function childMap(ctx: Context, map: YAMLMap, key: string, path: string): { map: YAMLMap; pair: Pair<Node, Node | null> } | undefined {
  const pair = findPair(map, key);
  if (!pair) return undefined;
  const value = pair.value;
  if (isAlias(value)) throw refuse(ctx, path, 'is an alias (*name): edit the anchored value, or write it out here');
  if (!isMap(value)) return undefined;
  return { map: value, pair };
}

/** Sets (or with create-missing adds) a scalar field of `map`; records the change and the expected object. */
function setField(
  ctx: Context,
  map: YAMLMap,
  key: string,
  value: ScalarValue,
  where: { path: string; jsPath: (string | number)[]; inFlow: boolean; create?: boolean },
): void {
  const pair = findPair(map, key);
  const fieldPath = `${where.path}.${key}`;
  setIn(ctx.expected, [...where.jsPath, key], value);
  if (!pair) {
    if (!(where.create ?? ctx.createMissing)) {
      throw refuse(ctx, fieldPath, `is absent: add it to the manifest, or set create-missing: true to have bump add it (wanted ${JSON.stringify(value)})`);
    }
    ctx.edits.push(insertIntoMap(ctx.text, map, [{ key, value }], ctx.unit, ctx.eol, where.jsPath.length));
    ctx.changes.push({ path: fieldPath, to: value });
    return;
  }
  const node = pair.value;
  if (isAlias(node)) throw refuse(ctx, fieldPath, `is an alias (*name): edit the anchored value, or write ${JSON.stringify(value)} out here`);
  if (!isScalar(node) && !isNullScalar(node)) throw refuse(ctx, fieldPath, `is not a single value: cannot set it to ${JSON.stringify(value)}`);
  const current = isScalar(node) ? (node.value as unknown) : null;
  if (current === value) return;
  if (!isScalar(node) || !node.range || (node.source === '' && current === null)) {
    // `key:` with nothing after it: add the value after the colon.
    const keyEnd = (pair.key as Node).range?.[1] ?? 0;
    const colon = ctx.text.indexOf(':', keyEnd);
    ctx.edits.push({ start: colon + 1, end: colon + 1, text: ` ${typeof value === 'number' ? value : JSON.stringify(value)}`, depth: where.jsPath.length });
  } else {
    try {
      ctx.edits.push(replaceScalar(node, value, where.inFlow || map.flow === true, where.jsPath.length));
    } catch (error) {
      if (error instanceof EditRefusal) throw refuse(ctx, fieldPath, `${error.message} (wanted ${JSON.stringify(value)})`);
      throw error;
    }
  }
  const from = typeof current === 'string' || typeof current === 'number' ? current : undefined;
  ctx.changes.push(from === undefined ? { path: fieldPath, to: value } : { path: fieldPath, from, to: value });
}

function setIn(target: unknown, path: (string | number)[], value: unknown): void {
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null) node[key] = {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1] as string | number] = value;
}

function bumpInferenceService(ctx: Context, root: YAMLMap, request: BumpRequest): void {
  const spec = childMap(ctx, root, 'spec', 'spec');
  const predictor = spec && childMap(ctx, spec.map, 'predictor', 'spec.predictor');
  if (!spec || !predictor) throw refuse(ctx, 'spec.predictor', 'is absent: this InferenceService has no predictor to update');
  const predictorFlow = spec.map.flow === true || predictor.map.flow === true;

  if (request.storageUri !== undefined) {
    const { map, path, jsPath, flow } = modelMap(ctx, predictor.map, predictorFlow);
    const problem = storageUriProblem(request.storageUri);
    if (problem) throw refuse(ctx, `${path}.storageUri`, `${JSON.stringify(request.storageUri)} ${problem}`);
    setField(ctx, map, 'storageUri', request.storageUri, { path, jsPath, inFlow: flow });
  }

  if (request.canaryTrafficPercent !== undefined) {
    const n = request.canaryTrafficPercent;
    if (!Number.isInteger(n) || n < 0 || n > 100) {
      throw refuse(ctx, 'spec.predictor.canaryTrafficPercent', `${JSON.stringify(n)} is not a whole number from 0 to 100`);
    }
    setField(ctx, predictor.map, 'canaryTrafficPercent', n, { path: 'spec.predictor', jsPath: ['spec', 'predictor'], inFlow: predictorFlow });
  }

  for (const image of request.images ?? []) setContainerImage(ctx, spec.map, image, spec.map.flow === true);

  const annotations = new Map([...(request.provenance ?? []), ...(request.annotations ?? [])]);
  if (annotations.size > 0) setAnnotations(ctx, root, [...annotations]);
}

/** `spec.predictor.model`, or the one framework field of the older form (`spec.predictor.onnx`). */
function modelMap(ctx: Context, predictor: YAMLMap, flow: boolean): { map: YAMLMap; path: string; jsPath: string[]; flow: boolean } {
  const model = childMap(ctx, predictor, 'model', 'spec.predictor.model');
  if (model) return { map: model.map, path: 'spec.predictor.model', jsPath: ['spec', 'predictor', 'model'], flow: flow || model.map.flow === true };
  const frameworks = FRAMEWORKS.flatMap((name) => {
    const found = childMap(ctx, predictor, name, `spec.predictor.${name}`);
    return found ? [{ name, map: found.map }] : [];
  });
  if (frameworks.length === 1) {
    const [{ name, map }] = frameworks as [{ name: string; map: YAMLMap }];
    return { map, path: `spec.predictor.${name}`, jsPath: ['spec', 'predictor', name], flow: flow || map.flow === true };
  }
  if (frameworks.length > 1) {
    throw refuse(ctx, 'spec.predictor', `has several framework fields (${frameworks.map((f) => f.name).join(', ')}): keep one, or move to spec.predictor.model`);
  }
  throw refuse(ctx, 'spec.predictor.model', `is absent (and no framework form such as spec.predictor.onnx): add the model with its modelFormat first`);
}

function setContainerImage(ctx: Context, spec: YAMLMap, image: ImageUpdate, specFlow: boolean): void {
  const reference = formatReference(image.reference);
  for (const component of ['predictor', 'transformer']) {
    const part = childMap(ctx, spec, component, `spec.${component}`);
    const containers = part && findPair(part.map, 'containers')?.value;
    if (!part || !isSeq(containers)) continue;
    const flow = specFlow || part.map.flow === true || containers.flow === true;
    const found = (containers as YAMLSeq).items.findIndex((item) => isMap(item) && findPair(item, 'name') && (findPair(item, 'name')?.value as { value?: unknown } | null)?.value === image.name);
    if (found < 0) continue;
    const container = containers.items[found] as YAMLMap;
    setField(ctx, container, 'image', reference, {
      path: `spec.${component}.containers[name=${image.name}]`,
      jsPath: ['spec', component, 'containers', found],
      inFlow: flow || container.flow === true,
    });
    return;
  }
  throw refuse(ctx, `spec.predictor|transformer.containers[name=${image.name}]`, `is absent: no predictor or transformer container is named ${JSON.stringify(image.name)} (wanted image ${JSON.stringify(reference)})`);
}

function setAnnotations(ctx: Context, root: YAMLMap, annotations: [string, string][]): void {
  for (const [key, value] of annotations) {
    const keyProblem = annotationKeyProblem(key);
    if (keyProblem) throw refuse(ctx, `metadata.annotations[${JSON.stringify(key)}]`, `key ${keyProblem}`);
    const valueProblem = annotationValueProblem(value);
    if (valueProblem) throw refuse(ctx, `metadata.annotations[${JSON.stringify(key)}]`, `value ${JSON.stringify(value)} ${valueProblem}`);
  }
  const metadata = childMap(ctx, root, 'metadata', 'metadata');
  if (!metadata) throw refuse(ctx, 'metadata', 'is absent: every Kubernetes object needs metadata.name');
  const flow = metadata.map.flow === true;
  const pair = findPair(metadata.map, 'annotations');
  const depth = 2;
  if (!pair || isNullScalar(pair.value)) {
    // Annotations the user names are created: recording provenance is the point of asking for them.
    const entries: NewEntry[] = annotations.map(([key, value]) => ({ key, value }));
    for (const [key, value] of annotations) setIn(ctx.expected, ['metadata', 'annotations', key], value);
    ctx.edits.push(
      pair
        ? fillEmptyValue(ctx.text, pair.key as Node, pair.value, entries, ctx.unit, ctx.eol, depth)
        : insertIntoMap(ctx.text, metadata.map, [{ key: 'annotations', value: entries }], ctx.unit, ctx.eol, 1),
    );
    for (const [key, value] of annotations) ctx.changes.push({ path: `metadata.annotations[${JSON.stringify(key)}]`, to: value });
    return;
  }
  if (isAlias(pair.value)) throw refuse(ctx, 'metadata.annotations', 'is an alias (*name): write the annotations out here');
  if (!isMap(pair.value)) throw refuse(ctx, 'metadata.annotations', 'is not a map of key: value');
  const map = pair.value;
  const missing: NewEntry[] = [];
  for (const [key, value] of annotations) {
    const path = `metadata.annotations[${JSON.stringify(key)}]`;
    if (findPair(map, key)) {
      const before = ctx.changes.length;
      setField(ctx, map, key, value, { path: 'metadata.annotations', jsPath: ['metadata', 'annotations'], inFlow: flow || map.flow === true });
      const last = ctx.changes[ctx.changes.length - 1];
      if (ctx.changes.length > before && last) last.path = path;
    } else {
      missing.push({ key, value });
      setIn(ctx.expected, ['metadata', 'annotations', key], value);
      ctx.changes.push({ path, to: value });
    }
  }
  if (missing.length > 0) ctx.edits.push(insertIntoMap(ctx.text, map, missing, ctx.unit, ctx.eol, depth));
}

function bumpKustomization(ctx: Context, root: YAMLMap, request: BumpRequest): void {
  const misplaced = [
    request.storageUri !== undefined && 'storage-uri',
    request.canaryTrafficPercent !== undefined && 'canary-traffic-percent',
    (request.annotations?.length ?? 0) > 0 && 'annotations',
  ].filter(Boolean);
  if (misplaced.length > 0) {
    throw refuse(ctx, '', `is a kustomization: ${misplaced.join(', ')} belong in the InferenceService manifest it lists; bump that file instead`);
  }
  const pair = findPair(root, 'images');
  const added: Record<string, string>[] = [];
  for (const image of request.images ?? []) {
    const items = pair?.value;
    const index = isSeq(items) ? items.items.findIndex((item) => isMap(item) && (findPair(item, 'name')?.value as { value?: unknown } | null)?.value === image.name) : -1;
    if (!isSeq(items) || index < 0) {
      if (!ctx.createMissing) {
        throw refuse(ctx, `images[name=${image.name}]`, `is absent: add an images: entry named ${JSON.stringify(image.name)} to the kustomization, or set create-missing: true (wanted ${JSON.stringify(formatReference(image.reference))})`);
      }
      added.push(newImageEntry(ctx, image));
      continue;
    }
    const entry = items.items[index] as YAMLMap;
    const where = { path: `images[name=${image.name}]`, jsPath: ['images', index], inFlow: root.flow === true || items.flow === true || entry.flow === true, create: true };
    const ref = image.reference;
    const hasField = (key: string) => findPair(entry, key) !== undefined;
    if (!ref.tag && !ref.digest) {
      throw refuse(ctx, where.path, `reference ${JSON.stringify(formatReference(ref))} has neither tag nor digest: give name:tag or name@sha256:<64 hex>`);
    }
    if (!ref.digest && hasField('digest')) {
      throw refuse(ctx, `${where.path}.digest`, `pins a digest, which kustomize prefers over newTag: give ${JSON.stringify(`${formatReference(ref)}@sha256:<64 hex>`)}`);
    }
    if (ref.name !== image.name || hasField('newName')) setField(ctx, entry, 'newName', ref.name, where);
    if (ref.tag) setField(ctx, entry, 'newTag', ref.tag, where);
    if (ref.digest) setField(ctx, entry, 'digest', ref.digest, where);
  }
  addImageEntries(ctx, root, pair, added);
}

/** With create-missing: a new `images:` entry, as plain data (added to the file in one edit). */
function newImageEntry(ctx: Context, image: ImageUpdate): Record<string, string> {
  const ref = image.reference;
  if (!ref.tag && !ref.digest) {
    throw refuse(ctx, `images[name=${image.name}]`, `reference ${JSON.stringify(formatReference(ref))} has neither tag nor digest: give name:tag or name@sha256:<64 hex>`);
  }
  const entry: Record<string, string> = { name: image.name };
  if (ref.name !== image.name) entry.newName = ref.name;
  if (ref.tag) entry.newTag = ref.tag;
  if (ref.digest) entry.digest = ref.digest;
  for (const [key, value] of Object.entries(entry)) ctx.changes.push({ path: `images[name=${image.name}].${key}`, to: value });
  return entry;
}

function addImageEntries(ctx: Context, root: YAMLMap, pair: Pair<Node, Node | null> | undefined, entries: Record<string, string>[]): void {
  if (entries.length === 0) return;
  const expected = ctx.expected as Record<string, unknown>;
  const list = (Array.isArray(expected.images) ? expected.images : (expected.images = [])) as unknown[];
  list.push(...entries);
  const items: NewEntry[][] = entries.map((entry) => Object.entries(entry).map(([key, value]) => ({ key, value })));
  if (pair && isSeq(pair.value)) ctx.edits.push(appendToSeq(ctx.text, pair.value, items, ctx.unit, ctx.eol, 2));
  else if (!pair) ctx.edits.push(insertIntoMap(ctx.text, root, [{ key: 'images', value: { items } }], ctx.unit, ctx.eol, 1));
  else throw refuse(ctx, 'images', 'is not a list of image entries');
}

function formatReference(reference: ImageReference): string {
  return `${reference.name}${reference.tag ? `:${reference.tag}` : ''}${reference.digest ? `@${reference.digest}` : ''}`;
}

/** Parses `name=reference` (the `image` input / `--image` option). */
export function parseImageUpdate(text: string, input = 'image'): ImageUpdate {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq).trim() : '';
  if (eq <= 0 || name === '') throw new UsageError(`${input}: ${JSON.stringify(text)} is not name=reference: give the container (or images: entry) name, =, and the image`);
  const value = text.slice(eq + 1).trim();
  const reference = parseImageReference(value);
  if (typeof reference === 'string') throw new UsageError(`${input}: ${JSON.stringify(value)} for ${name} ${reference}`);
  return { name, reference };
}
