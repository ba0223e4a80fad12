import { execSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

export interface Dovecot {
  port: number;
  user: string;
  pass: string;
  url: string;
  /** IMAP APPEND a raw message to the user's INBOX */
  append(raw: string | Buffer): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

/** Dovecot from the Debian packages: installed here when missing (as .ci/run does). */
export function ensureDovecotInstalled(): string {
  const which = () => {
    try {
      return execSync('command -v dovecot', { shell: '/bin/sh' }).toString().trim();
    } catch {
      return '';
    }
  };
  let bin = which();
  if (!bin) {
    execSync(
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd',
      {
        stdio: 'ignore',
        shell: '/bin/sh',
        timeout: 300_000,
      },
    );
    bin = which();
  }
  if (!bin)
    throw new Error(
      'dovecot is not installed and could not be installed (apt-get install dovecot-imapd)',
    );
  return bin;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

/**
 * A real IMAP server for the test: `dovecot -F -c <config in a temp dir>` (DESIGN.md "IMAP in tests"):
 * IMAP only, no TLS, a free port, one user with a {PLAIN} password, maildir in the temp dir.
 */
export async function startDovecot(): Promise<Dovecot> {
  const bin = ensureDovecotInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'iter-dovecot-'));
  chmodSync(dir, 0o755);
  for (const d of ['run', 'state', 'mail', 'home']) mkdirSync(join(dir, d), { recursive: true });
  const port = await freePort();
  const user = 'pec-iter';
  const pass = 'segreta-di-prova';
  const me = userInfo();
  // dovecot never runs mail processes as root: as root, the mailbox belongs to nobody
  const mailUid = me.uid === 0 ? 65534 : me.uid;
  const mailGid = me.uid === 0 ? 65534 : me.gid;
  for (const d of ['mail', 'home']) chownSync(join(dir, d), mailUid, mailGid);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${pass}\n`);
  const conf = `
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
mail_location = maildir:${dir}/mail/%u
default_internal_user = ${me.uid === 0 ? 'dovecot' : me.username}
default_login_user = ${me.uid === 0 ? 'dovenull' : me.username}
service imap-login {
  inet_listener imap {
    port = ${port}
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${mailUid} gid=${mailGid} home=${dir}/home/%u
}
`;
  writeFileSync(join(dir, 'dovecot.conf'), conf);
  const child: ChildProcess = spawn(bin, ['-F', '-c', join(dir, 'dovecot.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const log = () => {
    try {
      return out + readFileSync(join(dir, 'dovecot.log'), 'utf8');
    } catch {
      return out;
    }
  };
  // wait until it accepts a login
  const t0 = Date.now();
  for (;;) {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      auth: { user, pass },
      logger: false,
    });
    try {
      await c.connect();
      await c.logout();
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() - t0 > 15_000)
        throw new Error(`dovecot did not start: ${(err as Error).message}\n${log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    user,
    pass,
    url: `imap://${user}:${pass}@127.0.0.1:${port}`,
    log,
    append: async (raw) => {
      const c = new ImapFlow({
        host: '127.0.0.1',
        port,
        secure: false,
        auth: { user, pass },
        logger: false,
      });
      await c.connect();
      try {
        await c.append('INBOX', raw);
      } finally {
        await c.logout();
      }
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
