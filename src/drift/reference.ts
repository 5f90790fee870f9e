/**
 * Finds the reference: `--profile` is a profile.json (a path, file:// or s3:// object), or the storage URI of
 * a published version (`s3://bucket/models/churn/sha256-…/`, or its directory), whose profile.json and
 * model.json (the signature that decodes payloads) are read from it.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { badInput } from '../errors.ts';
import { parseModelCard, type ModelCard } from '../model/card.ts';
import type { Remote } from '../storage/remote.ts';
import { parseProfile, type Profile } from './profile.ts';

export interface Reference {
  profile: Profile;
  /** Where the profile came from, for the report. */
  source: string;
  card?: ModelCard;
}

export interface ReferenceDeps {
  cwd: string;
  openRemote(url: string): Remote;
}

function splitObjectUrl(url: string): { dir: string; key: string } {
  const at = url.lastIndexOf('/');
  return { dir: url.slice(0, at), key: url.slice(at + 1) };
}

async function readObject(url: string, deps: ReferenceDeps): Promise<Uint8Array> {
  const { dir, key } = splitObjectUrl(url);
  const remote = deps.openRemote(dir);
  try {
    const bytes = await remote.read(key);
    if (!bytes) throw new Error(`${url} does not exist`);
    return bytes;
  } finally {
    await remote.close();
  }
}

async function readVersion(url: string, deps: ReferenceDeps): Promise<Reference> {
  const base = url.replace(/\/+$/, '');
  const remote = deps.openRemote(base);
  try {
    const [profileBytes, cardBytes] = await Promise.all([remote.read('profile.json'), remote.read('model.json')]);
    if (!profileBytes) {
      throw new Error(`${base}/profile.json does not exist: this version was published without a profile (publish with --profile, or give --profile the profile.json itself)`);
    }
    const card = cardBytes ? parseModelCard(cardBytes, `${base}/model.json`) : undefined;
    return { profile: parseProfile(Buffer.from(profileBytes).toString('utf8'), `${base}/profile.json`), source: `${base}/profile.json`, ...(card && { card }) };
  } finally {
    await remote.close();
  }
}

export async function loadReference(input: string, modelCard: string | undefined, deps: ReferenceDeps): Promise<Reference> {
  const value = input.trim();
  if (value === '') throw badInput('profile', input, 'is required: a profile.json, or the storage URI of a published version');
  let reference: Reference;
  if (value.startsWith('s3://')) {
    if (value.endsWith('/') || !/\.json$/i.test(value)) reference = await readVersion(value, deps);
    else reference = { profile: parseProfile(Buffer.from(await readObject(value, deps)).toString('utf8'), value), source: value };
  } else {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith('file://')) throw badInput('profile', value, 'uses a scheme this tool does not read: give a path, file:// or s3://');
    const path = value.startsWith('file://') ? fileURLToPath(value) : isAbsolute(value) ? value : resolve(deps.cwd, value);
    let info;
    try {
      info = await stat(path);
    } catch {
      throw badInput('profile', value, 'does not exist: give the profile.json that `mlops profile` or the train step wrote, or a published version');
    }
    if (info.isDirectory()) reference = await readVersion(path, deps);
    else reference = { profile: parseProfile(await readFile(path, 'utf8'), value), source: value };
  }
  if (modelCard) {
    const path = isAbsolute(modelCard) ? modelCard : resolve(deps.cwd, modelCard);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      throw badInput('model-card', modelCard, 'cannot be read: give the model.json of the version production serves');
    }
    reference.card = parseModelCard(bytes, modelCard);
  }
  return reference;
}
