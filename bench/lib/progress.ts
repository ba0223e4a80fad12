/**
 * The progress line on stderr (stdout keeps the final table). On a terminal one line is rewritten in place;
 * elsewhere (CI logs) a line is printed at most every 5 s so logs stay short.
 */
export class Progress {
  private last = '';
  private lastPrint = 0;
  private readonly tty: boolean;
  private readonly t0 = Date.now();

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY);
  }

  private stamp(): string {
    const s = Math.floor((Date.now() - this.t0) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  /** a transient status (overwritten by the next one) */
  set(text: string): void {
    const line = `[${this.stamp()}] ${text}`;
    if (this.tty) {
      const width = this.out.columns || 120;
      this.out.write(`\r\x1b[K${line.slice(0, width - 1)}`);
      this.last = line;
    } else if (Date.now() - this.lastPrint >= 5000) {
      this.out.write(`${line}\n`);
      this.lastPrint = Date.now();
    }
  }

  /** a permanent line (kept on screen) */
  log(text: string): void {
    const line = `[${this.stamp()}] ${text}`;
    if (this.tty && this.last) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
    this.last = '';
    this.lastPrint = Date.now();
  }

  clear(): void {
    if (this.tty && this.last) this.out.write('\r\x1b[K');
    this.last = '';
  }
}
