import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { badInput, errorMessage } from '../errors.ts';

/** Where the configuration came from, in the order they are tried. */
export type KubeConfigSource = 'input' | 'KUBECONFIG' | 'home' | 'in-cluster';

export interface KubeConfigOptions {
  /** An explicit kubeconfig file (the `kubeconfig` input or `--kubeconfig`); relative to `cwd`. */
  kubeconfig?: string;
  /** A context other than the file's `current-context`. */
  context?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Home folder holding `.kube/config` (default: the user's). */
  home?: string;
  /**
   * Prefix of `/var/run/secrets/kubernetes.io/serviceaccount` for the in-cluster configuration (tests point it
   * at a folder of their own; default '' = the real path).
   */
  serviceAccountRoot?: string;
  /** The input named in error messages (default `kubeconfig`). */
  input?: string;
}

export interface LoadedKubeConfig {
  config: KubeConfig;
  source: KubeConfigSource;
  /** The file(s) read; empty in-cluster. */
  files: string[];
  context: string;
  /** The API server URL of the chosen context. */
  server: string;
  /** The context's namespace, when it names one. */
  namespace?: string;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Loads a kubeconfig the way kubectl finds one: the explicit file, else `KUBECONFIG` (paths joined by the
 * platform's delimiter, the first file wins and the others are merged), else `~/.kube/config`, else the pod's
 * service account. Unlike `KubeConfig.loadFromDefault()`, it never falls back to `http://localhost:8080`: with
 * nothing found it throws a UsageError (exit 2) naming the input, so a misconfigured runner cannot talk to
 * whatever happens to listen there.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): LoadedKubeConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const input = options.input ?? 'kubeconfig';
  const config = new KubeConfig();
  let source: KubeConfigSource;
  let files: string[] = [];

  if (options.kubeconfig) {
    const file = isAbsolute(options.kubeconfig) ? options.kubeconfig : resolve(cwd, options.kubeconfig);
    if (!isFile(file)) throw badInput(input, options.kubeconfig, 'does not exist or is not a file: give the path of a kubeconfig file');
    loadFiles(config, [file], input, options.kubeconfig);
    source = 'input';
    files = [file];
  } else if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
    // kubectl skips entries of the list that do not exist; all of them missing is an error.
    files = listed.map((f) => (isAbsolute(f) ? f : resolve(cwd, f))).filter(isFile);
    if (files.length === 0) throw badInput('KUBECONFIG', env.KUBECONFIG, 'names no existing file: fix the variable or unset it');
    loadFiles(config, files, 'KUBECONFIG', env.KUBECONFIG);
    source = 'KUBECONFIG';
  } else if (isFile(join(options.home ?? homedir(), '.kube', 'config'))) {
    const file = join(options.home ?? homedir(), '.kube', 'config');
    loadFiles(config, [file], input, file);
    source = 'home';
    files = [file];
  } else if (existsSync(`${options.serviceAccountRoot ?? ''}${SERVICE_ACCOUNT}/token`)) {
    if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) {
      throw badInput(input, '', `is not set and the service account token exists but KUBERNETES_SERVICE_HOST/PORT are not: give a kubeconfig`);
    }
    // loadFromCluster reads the variables from process.env; it is given ours for the call.
    withEnv(env, () => config.loadFromCluster(options.serviceAccountRoot ?? ''));
    source = 'in-cluster';
  } else {
    throw badInput(
      input,
      '',
      'is not set and no cluster configuration was found (KUBECONFIG, ~/.kube/config, in-cluster service account): give a kubeconfig file; the client\'s fallback to http://localhost:8080 is refused',
    );
  }

  if (options.context) {
    if (!config.getContextObject(options.context)) throw badInput('context', options.context, `is not a context of the kubeconfig (it has ${config.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    config.setCurrentContext(options.context);
  }
  const context = config.getCurrentContext();
  const cluster = config.getCurrentCluster();
  const where = files.length > 0 ? files.join(delimiter) : 'the in-cluster configuration';
  if (!context || !config.getContextObject(context)) {
    throw badInput(source === 'KUBECONFIG' ? 'KUBECONFIG' : input, where, 'has no current-context: set one (kubectl config use-context) or give the context');
  }
  if (!cluster?.server) throw badInput(source === 'KUBECONFIG' ? 'KUBECONFIG' : input, where, `has no cluster with a server URL for context ${context}`);
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw badInput(input, cluster.server, `is not a URL (the server of context ${context})`);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') throw badInput(input, cluster.server, 'must be an https:// API server URL');
  const namespace = config.getContextObject(context)?.namespace;
  return { config, source, files, context, server: cluster.server, ...(namespace ? { namespace } : {}) };
}

function loadFiles(config: KubeConfig, files: string[], input: string, shown: string): void {
  try {
    const [first, ...rest] = files;
    if (first) config.loadFromFile(first);
    for (const file of rest) {
      const other = new KubeConfig();
      other.loadFromFile(file);
      // As kubectl: the first file that sets current-context wins.
      config.mergeConfig(other, Boolean(config.currentContext));
    }
  } catch (error) {
    throw badInput(input, shown, `is not a valid kubeconfig (${errorMessage(error).split('\n')[0]})`);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function withEnv<T>(env: NodeJS.ProcessEnv, body: () => T): T {
  if (env === process.env) return body();
  const keys = ['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'] as const;
  const saved = keys.map((k) => process.env[k]);
  try {
    for (const k of keys) {
      if (env[k] === undefined) delete process.env[k];
      else process.env[k] = env[k];
    }
    return body();
  } finally {
    keys.forEach((k, i) => {
      const value = saved[i];
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    });
  }
}
