import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

@Entity({ name: 'ente' })
export class EnteEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) kind!: 'COMUNE' | 'UNIONE';
  @Column({ type: 'text' }) denominazione!: string;
  @Column({ name: 'codice_ipa', type: 'text', unique: true }) codiceIpa!: string;
  @Column({ name: 'codice_istat', type: 'char', length: 6, nullable: true }) codiceIstat!:
    string | null;
  @Column({ name: 'codice_catastale', type: 'char', length: 4, nullable: true }) codiceCatastale!:
    string | null;
  @Column({ name: 'codice_fiscale', type: 'char', length: 11, nullable: true }) codiceFiscale!:
    string | null;
  @Column({ type: 'text', nullable: true }) pec!: string | null;
  @Column({ type: 'text', nullable: true }) regione!: string | null;
  @Column({ type: 'text', nullable: true }) provincia!: string | null;
  @Column({ type: 'integer', nullable: true }) popolazione!: number | null;
  @Column({ name: 'popolazione_ref', type: 'text', nullable: true }) popolazioneRef!: string | null;
  @Column({ name: 'unione_id', type: 'uuid', nullable: true }) unioneId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
