import { Module } from '@nestjs/common';
import { ModelRegistry } from './model-registry';

@Module({
  providers: [ModelRegistry],
  exports: [ModelRegistry],
})
export class InferenceModule {}
