import { resolve } from 'node:path';
import { DEFAULT_PROFILE_OUT, nameList, writeProfile } from '../../drift/profile-file.ts';
import { badInput } from '../../errors.ts';
import { EXIT, type Command } from '../command.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

export const command: Command = {
  summary: 'Write the reference profile (profile.json) of training data, for drift',
  usage: ['profile --data <train.csv|train.jsonl> [--label <column>] [--categorical a,b] [--model model.onnx] [--out profile.json]'],
  options: {
    data: { type: 'string' },
    label: { type: 'string' },
    categorical: { type: 'string', multiple: true },
    model: { type: 'string' },
    out: { type: 'string' },
  },
  help: [
    ['--data FILE', 'Training data: CSV with a header, or JSON Lines (.jsonl)'],
    ['--label NAME', 'The label column, left out of the features (default: label, when there is one)'],
    ['--categorical A,B', 'Columns to profile as categories even when they hold numbers (codes); repeatable'],
    ['--model FILE', "ONNX model: also profile its outputs over the data (the prediction distribution)"],
    ['--out FILE', `Where to write the profile (default: ${DEFAULT_PROFILE_OUT})`],
  ],
  async run({ values }, ctx) {
    const data = str(values.data);
    if (!data) throw badInput('data', values.data ?? '', 'is required: the training data (CSV with a header, or .jsonl)');
    const at = (p: string) => resolve(ctx.cwd, p);
    const model = str(values.model);
    const label = str(values.label);
    const result = await writeProfile(
      {
        data: at(data),
        ...(label !== undefined && { label }),
        categorical: nameList(values.categorical as string[] | undefined),
        ...(model !== undefined && { model: at(model) }),
        out: at(str(values.out) ?? DEFAULT_PROFILE_OUT),
      },
      { logger: ctx.logger },
    );
    const { profile } = result;
    if (values.json) {
      ctx.out(JSON.stringify({ out: result.out, bytes: result.bytes, rows: profile.rows, features: profile.features.map((f) => ({ name: f.name, kind: f.kind })), outputs: profile.outputs.map((f) => ({ name: f.name, kind: f.kind })) }));
    } else {
      const kinds = (list: typeof profile.features) => list.map((f) => `${f.name} (${f.kind})`).join(', ') || '(none)';
      ctx.out([`wrote ${result.out} (${result.bytes} bytes, ${profile.rows} rows)`, `  features: ${kinds(profile.features)}`, ...(profile.outputs.length > 0 ? [`  outputs:  ${kinds(profile.outputs)}`] : [])].join('\n'));
    }
    return EXIT.ok;
  },
};
