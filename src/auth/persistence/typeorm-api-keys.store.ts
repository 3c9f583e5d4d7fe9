import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, Repository } from 'typeorm';
import { ApiKeyEntity } from './entities/api-key.entity';
import { ApiKeyRecord, ApiKeysStore } from './api-keys.store';

const toRecord = (e: ApiKeyEntity): ApiKeyRecord => ({
  id: e.id,
  owner: e.owner,
  name: e.name,
  prefix: e.prefix,
  createdAt: e.createdAt,
  revokedAt: e.revokedAt,
});

@Injectable()
export class TypeOrmApiKeysStore extends ApiKeysStore {
  private readonly keys: Repository<ApiKeyEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super();
    this.keys = dataSource.getRepository(ApiKeyEntity);
  }

  async create(key: ApiKeyRecord & { digest: string }): Promise<void> {
    await this.keys.insert(key);
  }

  async findActiveByDigest(digest: string): Promise<ApiKeyRecord | null> {
    const found = await this.keys.findOneBy({ digest, revokedAt: IsNull() });
    return found ? toRecord(found) : null;
  }

  async list(owner?: string): Promise<ApiKeyRecord[]> {
    const found = await this.keys.find({ where: owner ? { owner } : {}, order: { createdAt: 'ASC' } });
    return found.map(toRecord);
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.keys
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND revoked_at IS NULL', { id })
      .returning('id')
      .execute();
    return (result.raw as unknown[]).length > 0;
  }
}
