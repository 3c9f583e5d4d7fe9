export interface ApiKeyRecord {
  id: string;
  owner: string;
  name: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** API keys (port). Keys are found by the digest of their secret; revoked keys match nothing. */
export abstract class ApiKeysStore {
  abstract create(key: ApiKeyRecord & { digest: string }): Promise<void>;
  abstract findActiveByDigest(digest: string): Promise<ApiKeyRecord | null>;
  abstract list(owner?: string): Promise<ApiKeyRecord[]>;
  /** False when there is no such active key. */
  abstract revoke(id: string): Promise<boolean>;
}
