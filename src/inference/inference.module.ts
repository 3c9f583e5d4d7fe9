import { Module } from '@nestjs/common';
import { Embeddings } from './embeddings';
import { ModelRegistry } from './model-registry';
import { TokenCounter } from './token-counter';

@Module({
  providers: [ModelRegistry, TokenCounter, { provide: Embeddings, useFactory: (registry: ModelRegistry) => registry.embeddings, inject: [ModelRegistry] }],
  exports: [ModelRegistry, TokenCounter, Embeddings],
})
export class InferenceModule {}
