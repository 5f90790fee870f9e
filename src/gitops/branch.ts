import { badInput } from '../errors.ts';

/**
 * Why `name` is not a valid branch name by the rules of `git check-ref-format --branch`, or undefined when it is.
 * Kept in code so a bad name is reported before any git process runs.
 */
export function branchNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name === '@' || name === 'HEAD') return `is reserved by git`;
  if (name.startsWith('-')) return 'starts with "-"';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  if (name.includes('//')) return 'has an empty path component ("//")';
  if (name.endsWith('.')) return 'ends with "."';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  // Control characters, DEL, space and the characters git reserves for revision syntax.
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name)) return 'contains a space, control character or one of ~ ^ : ? * [ \\';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return `has a component starting with "." (${JSON.stringify(component)})`;
    if (component.endsWith('.lock')) return `has a component ending with ".lock" (${JSON.stringify(component)})`;
  }
  return undefined;
}

/** One segment of our branch name (a model or environment name): letters, digits, `.`, `_`, `-`. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** `mlops/<model>/<environment>`, or a UsageError naming the input that makes it invalid. */
export function pullRequestBranch(model: string, environment: string): string {
  for (const [input, value] of [['model', model], ['environment', environment]] as const) {
    if (!SEGMENT.test(value) || branchNameProblem(value) !== undefined) {
      throw badInput(input, value, 'must start with a letter or digit and use only letters, digits, ".", "_" and "-" (it names the branch mlops/<model>/<environment>)');
    }
  }
  return `mlops/${model}/${environment}`;
}

/** Checks a branch name given as input (the base branch) and returns it. */
export function checkBranchInput(input: string, name: string): string {
  const problem = branchNameProblem(name);
  if (problem) throw badInput(input, name, `is not a valid branch name: it ${problem}`);
  return name;
}
