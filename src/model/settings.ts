import { badInput } from '../errors.ts';
import type { PublishSettings } from './publish.ts';

/** The raw options shared by the publish action inputs and the CLI flags (same names). */
export interface PublishOptions {
  modelDir?: string;
  name?: string;
  remote?: string;
  endpoint?: string;
  profile?: string;
  metrics?: string;
  params?: string;
  data?: string[];
  runJson?: string;
  leg?: string;
  format?: string;
}

export function publishSettings(options: PublishOptions): PublishSettings & { remote: string; endpoint?: string } {
  const required = (input: string, value: string | undefined, fix: string): string => {
    if (value === undefined || value.trim() === '') throw badInput(input, value ?? '', fix);
    return value.trim();
  };
  const settings: PublishSettings & { remote: string; endpoint?: string } = {
    modelDir: required('model-dir', options.modelDir, 'is required: give the directory that holds the model files'),
    name: required('name', options.name, 'is required: give the model name, e.g. churn'),
    remote: required('remote', options.remote, 'is required: give s3://bucket/prefix or a directory'),
    dvcFiles: (options.data ?? []).filter((d) => d.trim() !== ''),
  };
  for (const file of settings.dvcFiles ?? []) {
    if (!file.endsWith('.dvc')) throw badInput('data', file, 'is not a .dvc file: give the pointer files of the training data (data/train.dvc)');
  }
  const optional = { endpoint: options.endpoint, profile: options.profile, metrics: options.metrics, params: options.params, runJson: options.runJson, leg: options.leg, format: options.format };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined && value.trim() !== '') (settings as unknown as Record<string, string>)[key] = value.trim();
  }
  return settings;
}
