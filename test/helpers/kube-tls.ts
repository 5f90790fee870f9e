import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.ts';

export interface SelfSigned {
  key: string;
  cert: string;
}

let cached: SelfSigned | undefined;

/**
 * A self-signed certificate for IP:127.0.0.1 made with openssl (once per test file): @kubernetes/client-node
 * 2.x refuses a plain-HTTP server, so the stand-in speaks HTTPS and the kubeconfig trusts this certificate
 * through certificate-authority-data, as with a real cluster.
 */
export function loopbackCertificate(): SelfSigned {
  if (cached) return cached;
  const dir = tempDir('kube-tls');
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'pipe' },
  );
  cached = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  return cached;
}
