/**
 * Validates an object against a Kubernetes structural schema (a CRD's openAPIV3Schema), the way the
 * API server does with strict field validation: types, required fields, enums, bounds, patterns,
 * int-or-string, and unknown fields (rejected unless x-kubernetes-preserve-unknown-fields).
 */
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export function validateStructural(value: unknown, schema: Schema, path = ''): string[] {
  const at = path || '<root>';
  if (value === null || value === undefined) return [];
  if (schema['x-kubernetes-int-or-string']) {
    return Number.isInteger(value) || typeof value === 'string' ? [] : [`${at}: must be an integer or a string, got ${JSON.stringify(value)}`];
  }
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: must be an object`];
      const object = value as Record<string, unknown>;
      const errors = (schema.required ?? []).filter((k) => object[k] === undefined).map((k) => `${at}: required field ${k} is missing`);
      for (const [key, child] of Object.entries(object)) {
        const childPath = `${path}${path ? '.' : ''}${key}`;
        const known = schema.properties?.[key];
        if (known) errors.push(...validateStructural(child, known, childPath));
        else if (typeof schema.additionalProperties === 'object') errors.push(...validateStructural(child, schema.additionalProperties, childPath));
        else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true && (schema.properties || schema.additionalProperties === false)) {
          errors.push(`${childPath}: unknown field`);
        }
      }
      return errors;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: must be an array`];
      const errors = schema.minItems !== undefined && value.length < schema.minItems ? [`${at}: needs at least ${schema.minItems} items`] : [];
      return [...errors, ...value.flatMap((item, i) => (schema.items ? validateStructural(item, schema.items, `${at}[${i}]`) : []))];
    }
    case 'string': {
      if (typeof value !== 'string') return [`${at}: must be a string, got ${JSON.stringify(value)}`];
      const errors: string[] = [];
      if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
      if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
      return errors;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value))) return [`${at}: must be a${schema.type === 'integer' ? 'n integer' : ' number'}, got ${JSON.stringify(value)}`];
      const errors: string[] = [];
      if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: ${value} is below ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: ${value} is above ${schema.maximum}`);
      return errors;
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: must be a boolean, got ${JSON.stringify(value)}`];
    default:
      return [];
  }
}
