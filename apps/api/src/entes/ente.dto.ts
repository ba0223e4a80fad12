import { ApiProperty } from '@nestjs/swagger';

/** An ente of the registry, as GET/POST /v1/entes answer it. */
export class EnteDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['COMUNE', 'UNIONE'] }) kind!: 'COMUNE' | 'UNIONE';
  @ApiProperty({ example: 'Pontedera' }) denominazione!: string;
  @ApiProperty({ example: 'c_g843' }) codiceIpa!: string;
  @ApiProperty({ nullable: true, type: String, example: '050029' }) codiceIstat!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'G843' }) codiceCatastale!: string | null;
  @ApiProperty({ nullable: true, type: String }) codiceFiscale!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'protocollo@pec.comune-pontedera.invalid' })
  pec!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Toscana' }) regione!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'PI' }) provincia!: string | null;
  @ApiProperty({ nullable: true, type: Number, example: 28061 }) popolazione!: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'u_valdera' }) unione!: string | null;
}
