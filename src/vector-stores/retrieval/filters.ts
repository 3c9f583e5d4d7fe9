import { invalidRequest } from '../../common/openai-error';

/** OpenAI's attribute filters (the SDK's `ComparisonFilter` and `CompoundFilter`). */
export type Comparison = {
  type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
  key: string;
  value: string | number | boolean | Array<string | number>;
};
export type Compound = { type: 'and' | 'or'; filters: Filter[] };
export type Filter = Comparison | Compound;

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']);
/** Bounds on what one filter may make the database evaluate. */
const MAX_DEPTH = 6;
const MAX_COMPARISONS = 64;
const MAX_KEY_LENGTH = 64;
const MAX_LIST = 100;

const isScalar = (v: unknown): v is string | number | boolean =>
  ['string', 'number', 'boolean'].includes(typeof v) && (typeof v !== 'number' || Number.isFinite(v));

/** Checks a client's filter (400 naming the field at fault) and returns it typed. */
export function parseFilter(value: unknown, param: string): Filter {
  let comparisons = 0;
  const walk = (node: unknown, path: string, depth: number): Filter => {
    if (!node || typeof node !== 'object' || Array.isArray(node))
      throw invalidRequest(`'${path}' must be a comparison or compound filter object.`, path, 'invalid_type');
    const { type } = node as { type?: unknown };
    if (type === 'and' || type === 'or') {
      if (depth >= MAX_DEPTH) throw invalidRequest(`Filters may be nested at most ${MAX_DEPTH} deep.`, path, 'invalid_value');
      const filters = (node as { filters?: unknown }).filters;
      if (!Array.isArray(filters)) throw invalidRequest(`'${path}.filters' must be an array of filters.`, `${path}.filters`, 'invalid_type');
      return { type, filters: filters.map((f, i) => walk(f, `${path}.filters[${i}]`, depth + 1)) };
    }
    if (typeof type !== 'string' || !COMPARISONS.has(type)) {
      throw invalidRequest(`'${path}.type' must be one of eq, ne, gt, gte, lt, lte, in, nin, and, or.`, `${path}.type`, 'invalid_value');
    }
    if (++comparisons > MAX_COMPARISONS) throw invalidRequest(`A filter may hold at most ${MAX_COMPARISONS} comparisons.`, param, 'invalid_value');
    const { key, value: v } = node as { key?: unknown; value?: unknown };
    if (typeof key !== 'string' || !key || key.length > MAX_KEY_LENGTH) {
      throw invalidRequest(`'${path}.key' must be a non-empty string of at most ${MAX_KEY_LENGTH} characters.`, `${path}.key`, 'invalid_value');
    }
    const list = type === 'in' || type === 'nin';
    if (list) {
      if (!Array.isArray(v) || v.length > MAX_LIST || !v.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))) {
        throw invalidRequest(`'${path}.value' must be an array of at most ${MAX_LIST} strings or numbers for '${type}'.`, `${path}.value`, 'invalid_value');
      }
    } else if (!isScalar(v)) {
      throw invalidRequest(`'${path}.value' must be a string, number or boolean.`, `${path}.value`, 'invalid_value');
    } else if (type !== 'eq' && type !== 'ne' && typeof v === 'boolean') {
      throw invalidRequest(`'${path}.value' cannot be a boolean for '${type}'.`, `${path}.value`, 'invalid_value');
    }
    return { type: type as Comparison['type'], key, value: v as Comparison['value'] };
  };
  return walk(value, param, 0);
}

/**
 * The filter as a SQL condition on `column` (a jsonb of attributes), its values appended to
 * `params`: evaluated by the database, next to the ranking. A missing key matches `ne` and `nin`
 * only; an ordering comparison compares numbers with numbers and strings with strings.
 */
export function filterSql(filter: Filter, column: string, params: unknown[]): string {
  const bind = (value: unknown, cast: string) => `$${params.push(value)}::${cast}`;
  if (filter.type === 'and' || filter.type === 'or') {
    if (!filter.filters.length) return 'true';
    return `(${filter.filters.map((f) => filterSql(f, column, params)).join(filter.type === 'and' ? ' AND ' : ' OR ')})`;
  }
  return comparisonSql(filter as Comparison, column, bind);
}

function comparisonSql(filter: Comparison, column: string, bind: (value: unknown, cast: string) => string): string {
  const field = `(${column} -> ${bind(filter.key, 'text')})`;
  switch (filter.type) {
    case 'eq':
      return `COALESCE(${field} = ${bind(JSON.stringify(filter.value), 'jsonb')}, false)`;
    case 'ne':
      return `${field} IS DISTINCT FROM ${bind(JSON.stringify(filter.value), 'jsonb')}`;
    case 'in':
      return `COALESCE(${field} IN (SELECT jsonb_array_elements(${bind(JSON.stringify(filter.value), 'jsonb')})), false)`;
    case 'nin':
      return `NOT COALESCE(${field} IN (SELECT jsonb_array_elements(${bind(JSON.stringify(filter.value), 'jsonb')})), false)`;
    default: {
      const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[filter.type];
      // CASE, not AND: SQL does not promise to check the type before the cast.
      return typeof filter.value === 'number'
        ? `CASE WHEN jsonb_typeof(${field}) = 'number' THEN (${field} #>> '{}')::numeric ${op} ${bind(filter.value, 'numeric')} ELSE false END`
        : `CASE WHEN jsonb_typeof(${field}) = 'string' THEN (${field} #>> '{}') ${op} ${bind(filter.value, 'text')} ELSE false END`;
    }
  }
}
