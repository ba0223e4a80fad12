import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { IsString, MaxLength } from 'class-validator';
import { loadConfig } from '@app/common';
import { conventionDefinitionV1, DefinitionRegistry, type ProcessDefinition } from '@app/workflows';
import { ApiModule } from '../api.module';
import { buildOpenApiDocument } from './openapi-document';

/** A second definition, as the RTD one will be: its own payload DTO, one shared with the convention. */
class NominaDto {
  @IsString() @MaxLength(200) nominativo!: string;
}
class StartProvaDto {
  @IsString() titolo!: string;
}
const prova: ProcessDefinition = {
  ...conventionDefinitionV1,
  key: 'prova-rtd',
  input: StartProvaDto,
  events: {
    'prova.nomina': {
      description: 'Nomina',
      roles: ['presidente'],
      scope: 'unione',
      payload: NominaDto,
    },
    'prova.chiudi': { description: 'Chiude', roles: ['presidente'], scope: 'unione' },
    'convention.abandon': conventionDefinitionV1.events['convention.abandon']!,
    'prova.timer': { description: 'Timer', roles: [], scope: 'system', payload: NominaDto },
  },
};

type Schemas = Record<string, Record<string, unknown>>;

/** The definition-dependent parts of the document come from the registry: a new definition needs no API change. */
describe('buildOpenApiDocument', () => {
  let app: INestApplication;

  beforeAll(async () => {
    // preview mode: the module graph without providers, so no database or Redis (as `npm run gen:api`)
    app = await NestFactory.create(ApiModule.forRoot(loadConfig({ NODE_ENV: 'development' })), {
      preview: true,
      logger: false,
    });
  });
  afterAll(async () => app.close());

  it('offers a second definition’s start request and events, with their payload schemas', () => {
    const doc = buildOpenApiDocument(app, new DefinitionRegistry([conventionDefinitionV1, prova]));
    const schemas = doc.components!.schemas as Schemas;
    const start = schemas['CreateProcessDto'] as {
      discriminator: { mapping: Record<string, string> };
    };
    expect(start.discriminator.mapping).toEqual({
      convenzione: '#/components/schemas/StartConvenzioneRequest',
      'prova-rtd': '#/components/schemas/StartProvaRtdRequest',
    });
    expect(schemas['StartProvaRtdRequest']).toMatchObject({
      properties: { input: { $ref: '#/components/schemas/StartProvaDto' } },
    });
    const events = schemas['SendEventDto'] as {
      discriminator: { mapping: Record<string, string> };
    };
    expect(events.discriminator.mapping).toMatchObject({
      'prova.nomina': '#/components/schemas/ProvaNominaEvent',
      'prova.chiudi': '#/components/schemas/ProvaChiudiEvent',
      'convention.abandon': '#/components/schemas/ConventionAbandonEvent',
    });
    expect(events.discriminator.mapping).not.toHaveProperty(['prova.timer']);
    expect(schemas['ProvaNominaEvent']).toMatchObject({
      required: ['type', 'payload'],
      properties: {
        type: { enum: ['prova.nomina'] },
        payload: { $ref: '#/components/schemas/NominaDto' },
      },
    });
    // an event without payload takes none, or an empty object
    expect(schemas['ProvaChiudiEvent']).toMatchObject({
      required: ['type'],
      properties: { payload: { type: 'object', maxProperties: 0 } },
    });
    expect(schemas['NominaDto']).toMatchObject({
      type: 'object',
      required: ['nominativo'],
      additionalProperties: false,
      properties: { nominativo: { type: 'string', maxLength: 200 } },
    });
  });

  it('refuses two payload DTO classes with one name (they would share a schema)', () => {
    const Clash = class NominaDto {};
    const clash: ProcessDefinition = {
      ...prova,
      key: 'clash',
      events: {
        'clash.x': { description: 'x', roles: ['presidente'], scope: 'unione', payload: Clash },
      },
    };
    expect(() =>
      buildOpenApiDocument(app, new DefinitionRegistry([conventionDefinitionV1, prova, clash])),
    ).toThrow('two payload DTO classes are named NominaDto');
  });
});
