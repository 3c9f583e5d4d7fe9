import { Module } from '@nestjs/common';
import { ModelRegistry } from './model-registry';
import { TokenCounter } from './token-counter';

@Module({
  providers: [ModelRegistry, TokenCounter],
  exports: [ModelRegistry, TokenCounter],
})
export class InferenceModule {}
