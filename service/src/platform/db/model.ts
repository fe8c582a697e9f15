import { Model } from 'objection';

/**
 * Base for every model: instants come back as Date whichever database stored
 * them (MySQL DATETIME or SQLite's epoch milliseconds).
 */
export class BaseModel extends Model {
  static dateColumns: string[] = ['created_at', 'updated_at'];

  override $parseDatabaseJson(json: Record<string, unknown>) {
    const parsed = super.$parseDatabaseJson(json);
    for (const col of (this.constructor as typeof BaseModel).dateColumns) {
      const v = parsed[col];
      if (v !== null && v !== undefined && !(v instanceof Date)) parsed[col] = new Date(v as string | number);
    }
    return parsed;
  }
}

/** Unique-constraint violations, as MySQL and SQLite report them. */
export function isUniqueViolation(err: unknown, column?: string): boolean {
  // objection wraps the driver's error (UniqueViolationError.nativeError)
  const e = ((err as { nativeError?: unknown }).nativeError ?? err) as { code?: string; message?: string };
  const unique = e.code === 'ER_DUP_ENTRY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  if (!unique || !column) return unique;
  // "… for key 'members_login_id_unique'" (MySQL) or "UNIQUE constraint failed: members.login_id" (SQLite)
  const key = /for key '([^']+)'|UNIQUE constraint failed: (.+)$/.exec(e.message ?? '');
  return !!key && (key[1] ?? key[2] ?? '').includes(column);
}
