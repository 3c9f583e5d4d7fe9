/** Postgres SQLSTATE codes the adapters act on. */
export const PgErrorCode = { uniqueViolation: '23505', foreignKeyViolation: '23503' } as const;

export interface DatabaseErrorInfo {
  code?: string;
  detail?: string;
  constraint?: string;
}

/** The Postgres error code, detail and constraint, wherever the driver (pg or PGlite, through TypeORM or not) put them. */
export function databaseError(error: unknown): DatabaseErrorInfo {
  if (typeof error !== 'object' || error === null) return {};
  const outer = error as { code?: unknown; detail?: unknown; constraint?: unknown; driverError?: unknown };
  const inner = (typeof outer.driverError === 'object' && outer.driverError !== null ? outer.driverError : {}) as typeof outer;
  const pick = (key: keyof DatabaseErrorInfo) => {
    const value = inner[key] ?? outer[key];
    return typeof value === 'string' ? value : undefined;
  };
  return { code: pick('code'), detail: pick('detail'), constraint: pick('constraint') };
}

/**
 * The database is down or out of connections (a 503 the client may retry, not a 500): SQLSTATE
 * classes 08 (connection), 53 (insufficient resources), 57P (shutdown), and socket errors.
 */
export function isUnavailableCode(error: unknown): boolean {
  const code = databaseError(error).code ?? '';
  return /^(08|53|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code);
}
