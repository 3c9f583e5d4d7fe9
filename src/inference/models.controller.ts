import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OpenAIError } from '../common/openai-error';
import { ModelRegistry } from './model-registry';

@ApiTags('Models')
@ApiBearerAuth()
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly registry: ModelRegistry) {}

  @Get()
  @ApiOperation({ operationId: 'listModels', summary: 'List the models this server serves' })
  list() {
    return { object: 'list', data: this.registry.list() };
  }

  @Get(':model')
  @ApiOperation({ operationId: 'retrieveModel', summary: 'Retrieve a model' })
  retrieve(@Param('model') id: string) {
    const model = this.registry.list().find((m) => m.id === id);
    if (!model) throw new OpenAIError(404, `The model '${id}' does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
    return model;
  }
}
