import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.ts';
import { loadKubeConfig } from '../../../src/kube/config.ts';
import { tempDir } from '../../helpers/tmp.ts';

function kubeconfig(dir: string, name: string, server: string, context = name, current: string | undefined = context): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: ${name}, cluster: {server: '${server}'}}]`,
      `users: [{name: ${name}, user: {token: t-${name}}}]`,
      `contexts: [{name: ${context}, context: {cluster: ${name}, user: ${name}, namespace: ns-${name}}}]`,
      ...(current ? [`current-context: ${current}`] : []),
    ].join('\n'),
  );
  return file;
}

const noHome = () => tempDir('kube-nohome');

describe('loadKubeConfig', () => {
  it('takes the explicit file first, then KUBECONFIG, then ~/.kube/config', () => {
    const dir = tempDir('kube-config');
    const explicit = kubeconfig(dir, 'explicit', 'https://10.0.0.1:6443');
    const fromEnv = kubeconfig(dir, 'env', 'https://10.0.0.2:6443');
    const home = tempDir('kube-home');
    mkdirSync(join(home, '.kube'));
    kubeconfig(join(home, '.kube'), 'config', 'https://10.0.0.3:6443', 'home');

    expect(loadKubeConfig({ kubeconfig: 'explicit', cwd: dir, env: { KUBECONFIG: fromEnv }, home })).toMatchObject({ source: 'input', server: 'https://10.0.0.1:6443', context: 'explicit', namespace: 'ns-explicit', files: [explicit] });
    expect(loadKubeConfig({ env: { KUBECONFIG: fromEnv }, home })).toMatchObject({ source: 'KUBECONFIG', server: 'https://10.0.0.2:6443' });
    expect(loadKubeConfig({ env: {}, home })).toMatchObject({ source: 'home', server: 'https://10.0.0.3:6443', context: 'home' });
  });

  it('merges the files KUBECONFIG lists, skipping missing ones; the first current-context wins unless a context is given', () => {
    const dir = tempDir('kube-merge');
    const a = kubeconfig(dir, 'a', 'https://10.0.0.1:6443');
    const b = kubeconfig(dir, 'b', 'https://10.0.0.2:6443');
    const loaded = loadKubeConfig({ env: { KUBECONFIG: [join(dir, 'missing'), a, b].join(':') }, home: noHome() });
    expect(loaded).toMatchObject({ context: 'a', server: 'https://10.0.0.1:6443', files: [a, b] });
    expect(loadKubeConfig({ env: { KUBECONFIG: `${a}:${b}` }, context: 'b', home: noHome() }).server).toBe('https://10.0.0.2:6443');
    expect(() => loadKubeConfig({ env: { KUBECONFIG: `${a}:${b}` }, context: 'c', home: noHome() })).toThrow('context: "c" is not a context of the kubeconfig (it has a, b)');
  });

  it('uses the pod\'s service account when there is no file', () => {
    const root = tempDir('kube-sa');
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), 'ca');
    writeFileSync(join(sa, 'namespace'), 'ml');
    const loaded = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, home: noHome(), serviceAccountRoot: root });
    expect(loaded).toMatchObject({ source: 'in-cluster', server: 'https://10.96.0.1:443', namespace: 'ml', files: [] });
    expect(process.env.KUBERNETES_SERVICE_HOST).toBeUndefined();
  });

  it('refuses the client\'s silent fallback to http://localhost:8080: nothing found is a usage error naming the input', () => {
    const error = (() => {
      try {
        loadKubeConfig({ env: {}, home: noHome(), serviceAccountRoot: tempDir('kube-nosa') });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^kubeconfig: "" is not set and no cluster configuration was found .*fallback to http:\/\/localhost:8080 is refused$/);
  });

  it('names the input for a missing file, a broken file, no current context and no server', () => {
    const dir = tempDir('kube-bad');
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'nope'), env: {} })).toThrow(/^kubeconfig: ".*nope" does not exist or is not a file/);
    writeFileSync(join(dir, 'broken'), 'clusters: [ {');
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'broken'), env: {} })).toThrow(/^kubeconfig: ".*broken" is not a valid kubeconfig/);
    kubeconfig(dir, 'nocontext', 'https://10.0.0.1:6443', 'nocontext', '');
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'nocontext'), env: {} })).toThrow(/has no current-context/);
    kubeconfig(dir, 'noserver', '');
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'noserver'), env: {} })).toThrow(/is not a valid kubeconfig \(clusters\[0\]\.cluster\.server is missing\)/);
    expect(() => loadKubeConfig({ env: { KUBECONFIG: join(dir, 'nope') }, home: noHome() })).toThrow(/^KUBECONFIG: ".*nope" names no existing file/);
  });
});
