/** One page of a cursor-paginated list. */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/** A list cursor (`after`/`before`) that names nothing in the list: a 400 naming that parameter. */
export class CursorNotFoundError extends Error {
  constructor(
    readonly param: 'after' | 'before',
    readonly cursor: string,
  ) {
    super(`No item with id '${cursor}' for '${param}'.`);
  }
}
