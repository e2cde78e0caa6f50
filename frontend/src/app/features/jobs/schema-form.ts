/** Form fields generated from an operation's JSON Schema (as GET /api/v1/workflows gives it). */

export interface JsonSchema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  title?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  discriminator?: { propertyName: string; mapping: Record<string, string> };
}

export type FieldKind = 'integer' | 'number' | 'string' | 'boolean' | 'enum' | 'json';

export interface Field {
  name: string;
  label: string;
  kind: FieldKind;
  nullable: boolean;
  default: unknown;
  options?: unknown[];
  description?: string;
  minimum?: number;
  maximum?: number;
}

function resolve(root: JsonSchema, s: JsonSchema): JsonSchema {
  if (s.$ref?.startsWith('#/$defs/')) return root.$defs?.[s.$ref.slice('#/$defs/'.length)] ?? s;
  return s;
}

/** The variants of a discriminated operation (method name -> schema), or one variant '' for a plain one. */
export function variants(schema: JsonSchema): { key: string; discriminator: string | null; schemas: Record<string, JsonSchema> } {
  if (schema.discriminator) {
    const out: Record<string, JsonSchema> = {};
    for (const [k, ref] of Object.entries(schema.discriminator.mapping)) out[k] = resolve(schema, { $ref: ref });
    return { key: Object.keys(out)[0] ?? '', discriminator: schema.discriminator.propertyName, schemas: out };
  }
  return { key: '', discriminator: null, schemas: { '': schema } };
}

function fieldOf(name: string, p: JsonSchema): Field {
  const base = { name, label: p.title ?? name, default: p.default ?? null, description: p.description };
  let s = p;
  let nullable = false;
  if (p.anyOf) {
    const nonNull = p.anyOf.filter((a) => a.type !== 'null');
    nullable = nonNull.length < p.anyOf.length;
    if (nonNull.length === 1) s = nonNull[0];
    else return { ...base, kind: 'json', nullable };
  }
  if (s.enum) return { ...base, kind: 'enum', nullable, options: s.enum };
  switch (s.type) {
    case 'integer':
    case 'number':
      return { ...base, kind: s.type, nullable, minimum: s.minimum, maximum: s.maximum };
    case 'string':
    case 'boolean':
      return { ...base, kind: s.type, nullable };
    default:
      return { ...base, kind: 'json', nullable };
  }
}

/** The editable fields of one variant (the discriminator itself excluded). */
export function fields(variant: JsonSchema, discriminator: string | null): Field[] {
  return Object.entries(variant.properties ?? {})
    .filter(([k]) => k !== discriminator)
    .map(([k, p]) => fieldOf(k, p));
}

/** Parse one field's text; `undefined` = left at its default (not sent). Throws on invalid input. */
export function parseValue(f: Field, text: string, keepDefault = false): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  let v: unknown;
  switch (f.kind) {
    case 'integer':
    case 'number': {
      const n = Number(t);
      if (!Number.isFinite(n) || (f.kind === 'integer' && !Number.isInteger(n))) throw new Error(`${f.label}: ${t} is not ${f.kind === 'integer' ? 'a whole number' : 'a number'}`);
      if (f.minimum !== undefined && n < f.minimum) throw new Error(`${f.label}: at least ${f.minimum}`);
      v = n;
      break;
    }
    case 'boolean':
      v = t === 'true';
      break;
    case 'json':
      try {
        v = JSON.parse(t) as unknown;
      } catch {
        throw new Error(`${f.label}: not valid JSON`);
      }
      break;
    default:
      v = t;
  }
  return !keepDefault && JSON.stringify(v) === JSON.stringify(f.default) ? undefined : v;
}

/** `{"<step>.<param>": value}` overrides for the job's `params`, only for the values that differ from
 * the schema's defaults (or every filled-in value with `all`: a preset may set other values). */
export function overrides(step: string, discriminator: string | null, method: string, fs: Field[], texts: Record<string, string>, all = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (discriminator) out[`${step}.${discriminator}`] = method;
  for (const f of fs) {
    const v = parseValue(f, texts[f.name] ?? '', all);
    if (v !== undefined) out[`${step}.${f.name}`] = v;
  }
  return out;
}

export function defaultText(f: Field): string {
  if (f.default === null || f.default === undefined) return '';
  return typeof f.default === 'string' ? f.default : JSON.stringify(f.default);
}
