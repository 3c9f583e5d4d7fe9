import { ValidationError, ValidationPipe } from '@nestjs/common';
import { invalidRequest, missingParameter } from './openai-error';

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

/**
 * Validation for every DTO: no implicit type coercion (a string is not a number), unknown fields
 * ignored (newer SDKs add fields) but never copied into our objects.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    whitelist: false,
    forbidUnknownValues: false,
    stopAtFirstError: true,
    exceptionFactory: validationErrorToOpenAI,
  });
}
