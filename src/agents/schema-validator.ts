import Ajv, { type ValidateFunction } from 'ajv';

/** JSON Schema validation of structured outputs (ajv), with compiled schemas cached. */
export class SchemaValidator {
  private readonly ajv = new Ajv({ allErrors: false, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  /** A readable description of the first violation, or null when `value` follows `schema`. */
  violation(schema: Record<string, unknown> | undefined, value: unknown): string | null {
    if (!schema) return null;
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      try {
        validate = this.ajv.compile(schema);
      } catch (error) {
        return `the schema itself is invalid (${error instanceof Error ? error.message : String(error)})`;
      }
      if (this.compiled.size > 500) this.compiled.clear();
      this.compiled.set(key, validate);
    }
    if (validate(value)) return null;
    const first = validate.errors?.[0];
    return first ? `${first.instancePath || '(root)'} ${first.message ?? 'is invalid'}` : 'it does not match';
  }
}
