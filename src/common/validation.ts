import { type ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage, type MetadataStorage } from 'class-validator';
import { invalidRequest, missingParameter, type OpenAIError } from './openai-error';

/** `tools[0].name` from the nested class-validator error tree. */
function firstLeaf(error: ValidationError, path: string): { path: string; error: ValidationError } {
  if (error.constraints && Object.keys(error.constraints).length > 0) return { path, error };
  const child = error.children?.[0];
  if (!child) return { path, error };
  const segment = /^\d+$/.test(child.property) ? `[${child.property}]` : `.${child.property}`;
  return firstLeaf(child, path + segment);
}

/** Turns class-validator's errors into one OpenAI-format 400 that names the offending parameter. */
export function validationErrorToOpenAI(errors: ValidationError[]) {
  const { path, error } = firstLeaf(errors[0], errors[0].property);
  const constraints = error.constraints ?? {};
  if (constraints.isDefined || (error.value === undefined && Object.keys(constraints).length > 0 && 'isNotEmpty' in constraints)) {
    return missingParameter(path);
  }
  const detail = Object.values(constraints)[0] ?? 'is invalid';
  // class-validator phrases constraints as "<property> must be …"; say it about the full path.
  const message = detail.startsWith(error.property) ? detail.slice(error.property.length).trim() : detail;
  return invalidRequest(`Invalid value for '${path}': ${message}.`, path, 'invalid_value');
}

/** Deeper JSON than this is refused: no real request nests so deep, and class-transformer recurses. */
export const MAX_JSON_DEPTH = 128;

const segment = (key: string | number) => (typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);

/** Text Postgres cannot store (jsonb or text): a NUL, or half of a UTF-16 surrogate pair (`\p{Cs}` under `u` matches only unpaired ones). */
const UNSTORABLE = /[\u0000\p{Cs}]/u;
const unstorable = (text: string) => UNSTORABLE.test(text);

/**
 * Finds the first value a request must not carry: nesting deeper than MAX_JSON_DEPTH, or a string
 * (value or key) Postgres cannot store. Iterative, so the depth of the input cannot overflow it.
 * Returns the 400 for it, naming the parameter, or null.
 */
export function checkJsonInput(value: unknown, root: string | null): OpenAIError | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root ?? '', depth: 0 }];
  while (stack.length) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      if (unstorable(current))
        return invalidRequest(`Invalid value for '${path || 'body'}': text must not contain NUL characters or unpaired UTF-16 surrogates.`, path || null);
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= MAX_JSON_DEPTH) return invalidRequest(`Invalid value for '${path || 'body'}': nested more than ${MAX_JSON_DEPTH} levels deep.`, path || null);
    const entries: Array<[string | number, unknown]> = Array.isArray(current) ? current.map((v, i) => [i, v]) : Object.entries(current);
    for (const [key, child] of entries) {
      const childPath = path ? path + segment(key) : String(key);
      if (typeof key === 'string' && unstorable(key))
        return invalidRequest(`Invalid key in '${path || 'body'}': text must not contain NUL characters or unpaired UTF-16 surrogates.`, path || null);
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return null;
}

/** The ValidationPipe, after `checkJsonInput` on every body, query and path parameter. */
class GuardedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      const refused = checkJsonInput(value, metadata.type === 'param' ? (metadata.data ?? null) : null);
      if (refused) throw refused;
    }
    return super.transform(value, metadata);
  }
}

type Rules = Parameters<MetadataStorage['groupByPropertyName']>[0];
type Grouped = ReturnType<MetadataStorage['groupByPropertyName']>;
let metadataCached = false;

/**
 * class-validator works out a class's rules again for every object it validates: a scan of every
 * decorated class in the process (for inherited rules), then a regrouping by property — 10–20 %
 * of a create request's validation, and growing with the number of DTOs (docs/performance.md).
 * The answer only changes when rules are added, so it is kept until then. Once per process.
 */
export function cacheValidationMetadata(): void {
  if (metadataCached) return;
  metadataCached = true;
  const storage = getMetadataStorage();
  let rules = new WeakMap<object, Map<string, Rules>>();
  let groupings = new WeakMap<Rules, Grouped>();
  const targetRules = storage.getTargetValidationMetadatas.bind(storage);
  const groupByProperty = storage.groupByPropertyName.bind(storage);
  const addRule = storage.addValidationMetadata.bind(storage);
  storage.addValidationMetadata = (metadata) => {
    rules = new WeakMap();
    groupings = new WeakMap();
    addRule(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0000') ?? ''}`;
    let byOptions = rules.get(target);
    if (!byOptions) rules.set(target, (byOptions = new Map<string, Rules>()));
    let found = byOptions.get(key);
    if (!found) byOptions.set(key, (found = targetRules(target, schema, always, strictGroups, groups)));
    return found;
  };
  storage.groupByPropertyName = (metadata) => {
    let grouped = groupings.get(metadata);
    if (!grouped) groupings.set(metadata, (grouped = groupByProperty(metadata)));
    return grouped;
  };
}

/**
 * Validation for every DTO: no implicit type coercion (a string is not a number), unknown fields
 * ignored (newer SDKs add fields) but never copied into our objects.
 */
export function createValidationPipe(): ValidationPipe {
  cacheValidationMetadata();
  return new GuardedValidationPipe({
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    whitelist: false,
    forbidUnknownValues: false,
    stopAtFirstError: true,
    exceptionFactory: validationErrorToOpenAI,
  });
}
