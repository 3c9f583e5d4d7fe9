import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { OpenAIError } from '../common/openai-error';
import { ModelRegistry } from './model-registry';

export class ListModelsQueryDto {
  /** Sent by the Codex CLI; its presence adds `models` (Codex's catalog shape) to the list. */
  @ApiPropertyOptional({ example: '0.171.0', description: "The Codex CLI's version: adds `models`, its catalog of these models, next to `data`." })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  client_version?: string;
}

@ApiTags('Models')
@ApiBearerAuth()
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly registry: ModelRegistry) {}

  @Get()
  @ApiOperation({ operationId: 'listModels', summary: 'List the models this server serves (with client_version: also in the Codex CLI catalog shape)' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['object', 'data'],
      properties: {
        object: { type: 'string', enum: ['list'] },
        data: { type: 'array', items: { type: 'object', additionalProperties: true } },
        models: {
          type: 'array',
          description: 'Only with `client_version`: Codex `ModelInfo` entries (slug, apply_patch_tool_type, context_window, …); see docs/codex.md.',
          items: { type: 'object', additionalProperties: true },
        },
      },
    },
  })
  async list(@Query() query: ListModelsQueryDto) {
    // Only Codex sends client_version; every other client gets the plain OpenAI list.
    if (query.client_version === undefined) return { object: 'list', data: this.registry.list() };
    return { object: 'list', ...(await this.registry.codexCatalog()) };
  }

  @Get(':model')
  @ApiOperation({ operationId: 'retrieveModel', summary: 'Retrieve a model' })
  retrieve(@Param('model') id: string) {
    const model = this.registry.list().find((m) => m.id === id);
    if (!model) throw new OpenAIError(404, `The model '${id}' does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
    return model;
  }
}
