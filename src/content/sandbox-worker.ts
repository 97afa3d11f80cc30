/**
 * Entry of the content sandbox's child process: runs one decoding request at a time and sends the result back
 * over IPC (advanced serialization: typed arrays cross as they are). Started with a V8 heap limit and killed
 * (never awaited) by its owner when a request passes the deadline; it exits when its owner goes away.
 * @module
 */
import { runSandboxOp, type SandboxRequest } from './sandbox-ops.js';

if (!process.send) throw new Error('sandbox-worker must run as a child process with an IPC channel');
const send = process.send.bind(process);

process.on('message', async (req: SandboxRequest) => {
  try {
    send({ value: await runSandboxOp(req) });
  } catch (error) {
    send({ error: error instanceof Error ? error.message : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
