import { badInput } from '../../errors.ts';
import { SERVE_DEFAULTS, startServer, type RunningServer } from '../../serve/server.ts';
import { openRemote } from '../../storage/open-remote.ts';
import { EXIT, type Command } from '../command.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const command: Command = {
  summary: 'Serve a published model version over the Open Inference Protocol (v2 REST) and KServe v1',
  usage: ['serve --storage-uri <s3://…/|file://…/|dir> [--name <model>] [--port 8080] [--host 127.0.0.1] [--log-payloads <dir|s3://prefix>] [--endpoint URL]'],
  options: {
    'storage-uri': { type: 'string' },
    name: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'log-payloads': { type: 'string' },
    endpoint: { type: 'string' },
  },
  help: [
    ['--storage-uri <uri>', 'The version publish printed: s3://…/models/<name>/<version>/, file:///…/ or a directory holding model.json'],
    ['--name <model>', "Model name in the URLs (default: model.json's name)"],
    ['--port <n>', `Port to listen on (default ${SERVE_DEFAULTS.port}; 0 picks a free one)`],
    ['--host <address>', `Address to listen on (default ${SERVE_DEFAULTS.host})`],
    ['--log-payloads <dest>', 'Write every inference request and response as KServe payload-logger CloudEvents (JSON lines) to a directory or s3://bucket/prefix'],
    ['--endpoint <url>', 'S3-compatible endpoint (MinIO, Ceph) for s3:// URIs'],
  ],
  async run({ values }, ctx) {
    const storageUri = str(values['storage-uri']);
    if (!storageUri) throw badInput('storage-uri', '', 'is required: give the storage-uri publish printed (s3://…/models/<name>/<version>/ or a directory)');
    const portText = str(values.port);
    if (portText !== undefined && !/^\d{1,5}$/.test(portText)) throw badInput('port', portText, 'is not a port: give a whole number from 0 to 65535');
    const endpoint = str(values.endpoint);
    const open = (url: string) => openRemote(url, { cwd: ctx.cwd, ...(endpoint ? { endpoint } : {}) });

    // SIGINT/SIGTERM stop the server cleanly (payload logs flushed); a second signal exits at once.
    const controller = new AbortController();
    let wake: (() => void) | undefined;
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        ctx.logger.error(`mlops serve: ${signal} again: exiting without waiting for requests or payload logs`);
        process.exit(EXIT.failure);
      }
      ctx.logger.info(`${signal}: stopping (waiting for requests in flight, writing payload logs)`);
      controller.abort();
      wake?.();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let server: RunningServer | undefined;
    try {
      try {
        server = await startServer(
          {
            storageUri,
            ...(str(values.name) !== undefined ? { name: str(values.name) } : {}),
            ...(portText !== undefined ? { port: Number(portText) } : {}),
            ...(str(values.host) !== undefined ? { host: str(values.host) } : {}),
            ...(str(values['log-payloads']) !== undefined ? { logPayloads: str(values['log-payloads']) } : {}),
            signal: controller.signal,
          },
          { logger: ctx.logger, openRemote: open, cwd: ctx.cwd },
        );
      } catch (error) {
        if (controller.signal.aborted) return EXIT.ok;
        throw error;
      }
      if (values.json) {
        ctx.out(JSON.stringify({ status: 'serving', name: server.name, version: server.version, url: server.url, 'storage-uri': server.storageUri }));
      } else {
        ctx.out(`serving ${server.name} ${server.version} at ${server.url}`);
      }
      if (!controller.signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
      const summary = await server.close();
      if (values['log-payloads'] !== undefined) {
        ctx.logger.info(`payload log: ${summary.payloadRecords} record(s) in ${summary.payloadFiles} file(s)${summary.payloadDropped > 0 ? `, ${summary.payloadDropped} dropped` : ''}`);
      }
      return EXIT.ok;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
