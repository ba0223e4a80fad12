import { ApiProperty } from '@nestjs/swagger';

const ROLES = [
  'presidente',
  'segretario',
  'sindaco',
  'staff',
  'gruppo_lavoro',
  'appointee',
  'auditor',
  'admin',
  'system',
];

/** A DTO named by a definition: its JSON schema is `components.schemas.<name>` of the OpenAPI document. */
export class SchemaRefDto {
  @ApiProperty({ example: 'RecordDeliberationDto' }) name!: string;
  @ApiProperty({ example: '#/components/schemas/RecordDeliberationDto' }) schema!: string;
}

export class DefinitionEventDto {
  @ApiProperty({ example: 'convention.deliberation.record' }) type!: string;
  @ApiProperty() description!: string;
  @ApiProperty({
    enum: ['unione', 'ente', 'system', 'appointee'],
    description:
      'unione: sent by the Unione; ente: for one’s own ente (payload.ente); system: timers only; appointee: only the person the process names (token sub)',
  })
  scope!: string;
  @ApiProperty({ type: [String], enum: ROLES }) roles!: readonly string[];
  @ApiProperty({ type: SchemaRefDto, nullable: true, description: 'null: takes no payload' })
  payload!: SchemaRefDto | null;
}

export class DefinitionDto {
  @ApiProperty({ example: 'convenzione' }) key!: string;
  @ApiProperty({ example: 1 }) version!: number;
  @ApiProperty() title!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [String], enum: ROLES }) startRoles!: readonly string[];
  @ApiProperty({ type: SchemaRefDto, description: 'the start input (POST /v1/processes input)' })
  input!: SchemaRefDto;
  @ApiProperty({ type: [DefinitionEventDto] }) events!: DefinitionEventDto[];
}
