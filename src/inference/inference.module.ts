import { Module } from '@nestjs/common';
import { ModelRegistry } from './model-registry';
import { ModelsController } from './models.controller';

@Module({
  controllers: [ModelsController],
  providers: [ModelRegistry],
  exports: [ModelRegistry],
})
export class InferenceModule {}
