import { parentPort, workerData } from 'node:worker_threads';
import { defaultRegistry } from '@app/workflows';
import {
  verifyChainInput,
  type VerifyReply,
  type VerifyTask,
  type VerifyWorkerData,
} from './batch-verify';

/** A verify worker thread (started by batch-verify.ts): checks each batch of chains it is sent, in turn. */
const data = workerData as VerifyWorkerData;
const registry = data.registry === 'default' ? defaultRegistry() : undefined;

parentPort!.on('message', (task: VerifyTask) => {
  let reply: VerifyReply;
  try {
    reply = {
      id: task.id,
      results: task.chains.map((c) => verifyChainInput(c, data.json, registry)),
    };
  } catch (err) {
    reply = { id: task.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  parentPort!.postMessage(reply);
});
