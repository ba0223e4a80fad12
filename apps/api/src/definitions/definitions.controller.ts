import { Controller, Get, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { DefinitionRegistry, mermaidDiagram, type ProcessDefinition } from '@app/workflows';
import { DefinitionDto } from './definition.dto';

const describe = (d: ProcessDefinition): DefinitionDto => ({
  key: d.key,
  version: d.version,
  title: d.title,
  description: d.description,
  startRoles: d.startRoles,
  input: { name: d.input.name, schema: `#/components/schemas/${d.input.name}` },
  events: Object.entries(d.events).map(([type, e]) => ({
    type,
    description: e.description,
    scope: e.scope,
    roles: e.roles,
    /** the payload DTO; its JSON schema is in the OpenAPI document under components.schemas */
    payload: e.payload
      ? { name: e.payload.name, schema: `#/components/schemas/${e.payload.name}` }
      : null,
  })),
});

@ApiTags('definitions')
@ApiBearerAuth()
@Controller('v1/definitions')
export class DefinitionsController {
  constructor(private readonly registry: DefinitionRegistry) {}

  @Get()
  @ApiOperation({ operationId: 'listDefinitions', summary: 'List process definitions' })
  @ApiOkResponse({
    type: [DefinitionDto],
    description: 'every deployed definition version, with who may send which event',
  })
  list() {
    return this.registry.all().map(describe);
  }

  @Get(':key')
  @ApiOperation({ operationId: 'getDefinition', summary: 'Get a process definition' })
  @ApiOkResponse({ type: DefinitionDto, description: 'the latest version of one definition' })
  @ApiNotFoundResponse({ description: 'DEFINITION_NOT_FOUND' })
  get(@Param('key') key: string) {
    return describe(this.registry.latest(key));
  }

  @Get(':key/diagram')
  @ApiOperation({
    operationId: 'getDefinitionDiagram',
    summary: 'The definition as a Mermaid state diagram',
  })
  @ApiProduces('text/plain')
  @ApiNotFoundResponse({ description: 'DEFINITION_NOT_FOUND' })
  @ApiOkResponse({
    description:
      'Mermaid stateDiagram-v2 generated from the machine: every state, every event, the timers each state arms, each ente’s branch',
    schema: { type: 'string' },
  })
  diagram(@Param('key') key: string, @Res({ passthrough: true }) res: Response): string {
    const text = mermaidDiagram(this.registry.latest(key));
    // set only on success: an error keeps its JSON body and type
    res.type('text/plain; charset=utf-8');
    return text;
  }
}
