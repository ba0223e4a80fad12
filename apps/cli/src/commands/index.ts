import type { Command } from '../cli';
import { checkpoint, migrate, seed, start } from './admin';
import { demo } from './demo';
import { historyExport } from './history';
import { overdue } from './overdue';
import { resend } from './resend';
import { token } from './token';
import { verifyAudit } from './verify-audit';

/** Every command, in the order of `iter --help`. */
export const COMMANDS: readonly Command[] = [
  start,
  migrate,
  seed,
  token,
  verifyAudit,
  checkpoint,
  historyExport,
  resend,
  overdue,
  demo,
];
