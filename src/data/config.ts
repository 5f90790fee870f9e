import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { badInput } from '../errors.ts';

export type ConfigSections = Map<string, Map<string, string>>;

/**
 * Parses DVC's configobj-style INI (`[core]`, `['remote "name"']`, `key = value`, `#`/`;` comments).
 * Later files override earlier ones, as `.dvc/config.local` overrides `.dvc/config`.
 */
export function parseDvcConfig(text: string, into: ConfigSections = new Map()): ConfigSections {
  let section: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header) {
      const name = unquote(header[1] as string);
      section = into.get(name) ?? new Map();
      into.set(name, section);
      continue;
    }
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (pair && section) section.set((pair[1] as string).trim(), unquote((pair[2] as string).trim()));
  }
  return into;
}

function unquote(text: string): string {
  return /^(['"]).*\1$/.test(text) ? text.slice(1, -1) : text;
}

export interface RemoteConfig {
  name: string;
  url: string;
  endpoint?: string;
}

/** The remote to use: `name` if given, else `[core] remote`; undefined when the config names none. */
export async function remoteFromConfig(root: string, name?: string): Promise<RemoteConfig | undefined> {
  const sections: ConfigSections = new Map();
  for (const file of ['config', 'config.local']) {
    const text = await readFile(join(root, '.dvc', file), 'utf8').catch(() => undefined);
    if (text !== undefined) parseDvcConfig(text, sections);
  }
  const chosen = name ?? sections.get('core')?.get('remote');
  if (!chosen) return undefined;
  const section = sections.get(`remote "${chosen}"`);
  const url = section?.get('url');
  if (!section || !url) throw badInput('remote', chosen, 'is not defined in .dvc/config: add [\'remote "NAME"\'] url = ..., or pass --remote s3://bucket/prefix');
  const endpoint = section.get('endpointurl');
  // DVC stores a local remote's relative path relative to the config file's folder.
  const isPath = !/^[a-z][a-z0-9+.-]*:\/\//i.test(url);
  return { name: chosen, url: isPath && !isAbsolute(url) ? resolve(root, '.dvc', url) : url, ...(endpoint ? { endpoint } : {}) };
}
